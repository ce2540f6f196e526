/** Whether `error` is a Node.js system error with this `code` (`ENOENT`, `EACCES`, …). */
export function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null | undefined)?.code === code;
}
