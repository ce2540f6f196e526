import { Command, Option } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { ignoreEmptyEnvironment } from '../../lib/cli/empty-environment.js';
import { buildMidctlProgram } from '../../lib/midctl/program.js';

const VARIABLE = 'MID_TEST_EMPTY_ENVIRONMENT';

function parsed(args: string[]) {
  const command = new Command()
    .addOption(new Option('--where <dir>').env(VARIABLE))
    .hook('preAction', (self) => ignoreEmptyEnvironment(self, ['where']))
    .action(() => undefined);
  command.parse(args, { from: 'user' });
  return { value: command.opts()['where'], source: command.getOptionValueSource('where') };
}

describe('an environment variable that is set but empty', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('counts as not given', () => {
    process.env[VARIABLE] = '';
    expect(parsed([])).toEqual({ value: undefined, source: 'default' });
  });

  it('leaves a filled variable and a flag as they were, an empty flag included', () => {
    process.env[VARIABLE] = '/srv/auth';
    expect(parsed([])).toEqual({ value: '/srv/auth', source: 'env' });
    expect(parsed(['--where', '/elsewhere'])).toEqual({ value: '/elsewhere', source: 'cli' });
    expect(parsed(['--where', ''])).toEqual({ value: '', source: 'cli' });
  });

  it('leaves midctl asking for the data directory rather than looking for one named ""', async () => {
    process.env['MID_DATA_DIR'] = '';
    process.env['MID_AUTH_SERVER'] = '';
    const program = buildMidctlProgram({
      write: () => undefined,
      note: () => undefined,
      readStdin: () => '',
      now: () => Date.now(),
      untilStopped: async () => {},
    });
    program.exitOverride();

    await expect(program.parseAsync(['status'], { from: 'user' })).rejects.toMatchObject({
      message:
        "midctl needs the auth server's data directory for the admin credential: pass --data-dir DIR or set MID_DATA_DIR",
    });
  });
});
