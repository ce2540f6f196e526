import type { AuthContext } from './auth-context.js';
import { BotLocks } from './bot-locks.js';

/**
 * One lock in force, as `midctl locks ls` lists it (Teleport's `tctl get locks`): on a whole bot
 * (`bot/NAME`) or on one instance (`bot_instance/BOT/ID`), an operator's or the service's own.
 */
export interface LockEntry {
  readonly target: string;
  readonly at: string;
  readonly reason: string;
  /** The operator; absent for a lock the service set itself (a copy of an identity was used). */
  readonly by?: string;
  readonly expires?: string;
}

/**
 * Every lock in force: the bots' (one query), then the instances' (a read of every instance record,
 * which an operator's rare listing can afford; locks past their expiry are left out by both reads).
 */
export async function listLocks(context: AuthContext): Promise<LockEntry[]> {
  const [botLocks, instances] = await Promise.all([new BotLocks(context).list(), context.instances.list()]);
  const onBots = botLocks.map(({ bot, ...lock }): LockEntry => ({ target: `bot/${bot}`, ...lock }));
  const onInstances = instances.flatMap((record): LockEntry[] =>
    record.locked === undefined
      ? []
      : [{ target: `bot_instance/${record.bot_name}/${record.instance_id}`, ...record.locked }],
  );
  return [...onBots, ...onInstances];
}
