/**
 * An error a command has already written to its log, in the log's own format: the entry sets the exit
 * code and prints nothing more. With `--log-format json` every line a log shipper reads must be JSON,
 * the reason the process stops included.
 */
export class LoggedError extends Error {
  readonly alreadyLogged = true;

  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'LoggedError';
  }
}

/** Whether `error` was written to the log already (see {@link LoggedError}). */
export function wasLogged(error: unknown): boolean {
  return error instanceof Error && (error as Partial<LoggedError>).alreadyLogged === true;
}
