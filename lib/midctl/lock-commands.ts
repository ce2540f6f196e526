import { type Command, Option } from 'commander';
import type { AdminApi } from './admin-api.js';
import {
  lockInstance,
  lockTarget,
  TCTL_LOCK_FLAGS,
  type TctlLockFlags,
  tctlLockFlag,
  unlockInstance,
} from './commands/instance-lock.js';

/** Runs one admin command's work and prints what it returns (midctl's own `run`). */
type RunAdmin = (work: (admin: AdminApi) => Promise<string>) => Promise<void>;

/** `midctl lock` and `midctl unlock` of a bot instance. */
export function addLockCommands(program: Command, run: RunAdmin): void {
  const lock = program
    .command('lock')
    .description(
      'Lock a bot instance: its renewals, certificates and heartbeats are refused until `midctl unlock`',
    )
    .argument('[bot_instance/BOT/ID]', 'the instance, as `midctl bots instances ls` lists it')
    .option('--message <text>', 'why, shown to the bot in each refusal and kept in the audit log');
  // tctl lock's targets and lifetimes, accepted only to be refused with what to do instead.
  for (const key of Object.keys(TCTL_LOCK_FLAGS))
    lock.addOption(new Option(`${tctlLockFlag(key)} <value>`).hideHelp());
  lock.action((ref: string | undefined, flags: TctlLockFlags & { message?: string }) => {
    const target = lockTarget(ref, flags);
    return run((admin) => lockInstance(admin, target, flags.message));
  });

  program
    .command('unlock')
    .description("Lift an operator's lock on a bot instance (a lock the service set itself stays)")
    .argument('<bot_instance/BOT/ID>', 'the locked instance, as `midctl bots instances ls` lists it')
    .action((ref: string) => run((admin) => unlockInstance(admin, ref)));
}
