import { CommanderError } from 'commander';
import { MidError } from '../lib/core/errors.js';
import { readSmallStdin } from '../lib/core/read-small-file.js';
import { buildMidctlProgram } from '../lib/midctl/program.js';
import { MAX_YAML_BYTES } from '../lib/resources/yaml-documents.js';

// The entry is the only place that turns errors into exit codes and stderr lines.
const program = buildMidctlProgram({
  write: (text) => process.stdout.write(text),
  note: (text) => process.stderr.write(text),
  // Bounded: `create -f - < /dev/zero` must be refused, not fill the memory.
  readStdin: () => readSmallStdin(MAX_YAML_BYTES).toString('utf8'),
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
