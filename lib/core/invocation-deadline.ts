/** A request's deadline, as the calls made for it see it. */
export interface Deadline {
  /** True once the deadline has passed. */
  readonly passed: boolean;
  /** Rejects when the deadline passes; never settles if the request ends first. Race calls with it. */
  readonly reached: Promise<never>;
}

/**
 * The deadline of the Lambda invocation being served, for the calls made on its behalf deep below the
 * handler. The auth Lambda must answer before its own timeout: past it, API Gateway answers a bare
 * error, the caller learns nothing, and Lambda resets the instance (its warm CAs and connections are
 * lost). Each DynamoDB call already gives up by itself after its SDK attempts, but a request making
 * several of them while DynamoDB is slow could still run out of time. The composition root runs each
 * request in {@link InvocationDeadline.run} and hands {@link InvocationDeadline.current} to the storage
 * backend, whose calls then end with a clear error at the deadline.
 *
 * A Lambda instance serves one invocation at a time, so one holder per instance is enough and nothing
 * needs to follow the request through its async calls (`AsyncLocalStorage` would, at a cost to every
 * promise). Where invocations do overlap (several requests to one handler in a test process), no
 * deadline is given out rather than one that may belong to another request.
 */
export class InvocationDeadline {
  private readonly running = new Set<Deadline>();

  /** Runs `work` with a deadline `ms` from now (at once if `ms` ≤ 0). */
  async run<T>(ms: number, work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = {
      passed: false,
      reached: new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => {
            deadline.passed = true;
            reject(new Error('the request deadline passed'));
          },
          Math.max(0, ms),
        );
      }),
    };
    // Nobody may be racing it when it passes: that is no failure of its own.
    deadline.reached.catch(() => {});
    this.running.add(deadline);
    try {
      return await work();
    } finally {
      clearTimeout(timer);
      this.running.delete(deadline);
    }
  }

  /** The deadline of the one invocation running; undefined when none or several are. */
  current(): Deadline | undefined {
    if (this.running.size !== 1) return undefined;
    const [only] = this.running;
    return only;
  }
}
