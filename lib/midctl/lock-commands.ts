import { type Command, Option } from 'commander';
import {
  type LockFlags,
  listLocks,
  lock,
  lockOrder,
  TCTL_LOCK_FLAGS,
  tctlLockFlag,
  unlock,
} from './commands/lock.js';
import type { RunAdmin } from './run-admin.js';

/** `midctl lock` and `midctl unlock` of a whole bot, one bot instance or a role, and `midctl locks ls`. */
export function addLockCommands(program: Command, run: RunAdmin): void {
  const lockCommand = program
    .command('lock')
    .description(
      'Lock a bot (every instance and every join), one bot instance, or a role (every bot holding it is refused certificates) until `midctl unlock` or the lock expires',
    )
    .argument(
      '[bot/NAME | bot_instance/BOT/ID | role/NAME]',
      'the bot, the instance as `midctl bots instances ls` lists it, or the role',
    )
    .option('--message <text>', 'why, shown to the bot in each refusal and kept in the audit log')
    .option('--ttl <duration>', 'lift the lock by itself after this long, e.g. 12h (default: until unlocked)')
    .option('--expires <time>', 'lift the lock by itself at this RFC 3339 time, e.g. 2026-12-01T09:00:00Z')
    .option(
      '--replace',
      'put this lock in the place of one in force (otherwise locking a locked target is refused)',
    );
  // tctl lock's other targets, accepted only to be refused with what to do instead.
  for (const key of Object.keys(TCTL_LOCK_FLAGS))
    lockCommand.addOption(new Option(`${tctlLockFlag(key)} <value>`).hideHelp());
  lockCommand.action((ref: string | undefined, flags: LockFlags) => {
    const order = lockOrder(ref, flags);
    return run((admin) => lock(admin, order));
  });

  program
    .command('unlock')
    .description(
      "Lift an operator's lock on a bot, a bot instance or a role (a lock the service set itself stays)",
    )
    .argument('<bot/NAME | bot_instance/BOT/ID | role/NAME>', 'what was locked')
    .action((ref: string) => run((admin) => unlock(admin, ref)));

  program
    .command('locks')
    .description('Locks in force')
    .command('ls')
    .description(
      'List the locks in force on bots, bot instances and roles (as tctl get locks), with who set them and until when',
    )
    .addOption(new Option('--format <format>').choices(['text', 'json']).default('text'))
    .action((flags: { format: 'text' | 'json' }) => run((admin) => listLocks(admin, flags.format)));
}
