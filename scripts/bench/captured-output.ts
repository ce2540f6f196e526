/**
 * The Lambdas log JSON lines to stderr and the bot prints its metric lines with console.log; in Lambda
 * these go to CloudWatch. Here they are kept in memory (the last 200, shown if the bench fails) so that
 * the bench prints only its figures; the handlers still do the work of producing them.
 */
export function captureOutput() {
  const lines: string[] = [];
  const keep = (text: string) => {
    lines.push(text);
    if (lines.length > 200) lines.shift();
  };
  const write = process.stderr.write;
  const log = console.log;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    keep(String(chunk).trimEnd());
    return true;
  }) as typeof process.stderr.write;
  console.log = (...args: unknown[]) => keep(args.map(String).join(' '));
  return {
    captured: () => [...lines],
    restore() {
      process.stderr.write = write;
      console.log = log;
    },
  };
}
