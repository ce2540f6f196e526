import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { MidError } from '../lib/core/errors.js';
import { buildMidctlProgram } from '../lib/midctl/program.js';

// The entry is the only place that turns errors into exit codes and stderr lines.
const program = buildMidctlProgram({
  write: (text) => process.stdout.write(text),
  readStdin: () => readFileSync(0, 'utf8'),
  now: () => Date.now(),
  untilStopped: () =>
    new Promise((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
});
program.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof MidError) {
    process.stderr.write(`ERROR: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`ERROR: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
