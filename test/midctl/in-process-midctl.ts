import { buildMidctlProgram } from '../../lib/midctl/program.js';

/**
 * Runs midctl's command table in this process against the auth service of `dataDir`: what it prints,
 * or the error it throws (the entry would print that as one `ERROR:` line and exit 1). `now` is the
 * time midctl reads its output against (what shows as expired). What midctl writes beside its output
 * (stderr) goes to `notes`.
 */
export function inProcessMidctl(
  dataDir: string,
  now: () => number = () => Date.now(),
  notes: string[] = [],
): (args: readonly string[], stdin?: string) => Promise<string> {
  return async (args, stdin = '') => {
    const output: string[] = [];
    const program = buildMidctlProgram({
      write: (text) => output.push(text),
      note: (text) => notes.push(text),
      readStdin: () => stdin,
      now,
      untilStopped: async () => {},
    });
    program.exitOverride();
    await program.parseAsync(['--data-dir', dataDir, ...args], { from: 'user' });
    return output.join('');
  };
}
