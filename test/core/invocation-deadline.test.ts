import { describe, expect, it } from 'vitest';
import { InvocationDeadline } from '../../lib/core/invocation-deadline.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('InvocationDeadline', () => {
  it('gives the running invocation a deadline that passes and rejects at its time, and none once it has ended', async () => {
    const deadline = new InvocationDeadline();
    expect(deadline.current()).toBeUndefined();

    const outcome = await deadline.run(30, async () => {
      const current = deadline.current();
      expect(current?.passed).toBe(false);
      const raced = await Promise.race([pause(1_000).then(() => 'call answered'), current?.reached]).catch(
        (error: Error) => error.message,
      );
      return { raced, passed: current?.passed };
    });

    expect(outcome).toEqual({ raced: 'the request deadline passed', passed: true });
    expect(deadline.current()).toBeUndefined();
  });

  it('ends the deadline with the invocation, which fails or not, and a deadline nobody races is no error', async () => {
    const deadline = new InvocationDeadline();
    let seen: ReturnType<InvocationDeadline['current']>;
    await expect(
      deadline.run(30, async () => {
        seen = deadline.current();
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    await pause(60);
    // Its timer was cleared: a finished invocation's deadline does not pass later.
    expect(seen?.passed).toBe(false);
    // Passing while nobody races it leaves no unhandled rejection (vitest would fail the run).
    await deadline.run(0, () => pause(30));
    expect(deadline.current()).toBeUndefined();
  });

  it('gives out no deadline while invocations overlap, rather than one that may be another request’s', async () => {
    const deadline = new InvocationDeadline();
    let release: () => void = () => {};
    const first = deadline.run(1_000, () => new Promise<void>((resolve) => (release = resolve)));
    await deadline.run(1_000, async () => expect(deadline.current()).toBeUndefined());
    expect(deadline.current()?.passed).toBe(false);
    release();
    await first;
  });
});
