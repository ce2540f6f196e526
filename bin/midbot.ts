import { hostname } from 'node:os';
import { CommanderError } from 'commander';
import { timerSleep } from '../lib/bot/agent/sleep.js';
import { wasLogged } from '../lib/cli/logged-error.js';
import { systemClock } from '../lib/core/clock.js';
import { readSmallFile } from '../lib/core/read-small-file.js';
import { buildMidbotProgram } from '../lib/midbot/program.js';

// The entry is the only place that turns errors into exit codes and stderr lines.
const program = buildMidbotProgram({
  write: (text) => process.stdout.write(text),
  writeLog: (line) => process.stderr.write(`${line}\n`),
  clock: systemClock,
  sleep: timerSleep,
  hostname: () => hostname(),
  env: process.env,
  argv: process.argv,
  cwd: () => process.cwd(),
  // Config files: a regular file of at most 1 MiB (a FIFO or a device named by mistake is refused).
  readFile: (path) => readSmallFile(path, 1_048_576),
  onSignal: (signal, handler) => {
    process.on(signal, handler);
    return () => process.off(signal, handler);
  },
});
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (wasLogged(error)) {
    process.exitCode = 1;
  } else {
    // One line, so that scripts and journals show the whole reason.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`ERROR: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exitCode = 1;
  }
}
