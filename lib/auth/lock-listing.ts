import type { AuthContext } from './auth-context.js';
import { toBotInstanceResource } from './bot-instance-store.js';
import { BotLocks } from './bot-locks.js';

/*
 * Listings of what is locked, for operators: every lock (`midctl locks ls`) and the bots with theirs.
 */

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

/**
 * The bots as `midctl get bots` / `bots ls` list them (`name`: that one only), each locked one with
 * its lock as `status.locked`, which `create -f` ignores when the listing is fed back to it.
 */
export async function listBotsWithLocks(
  context: AuthContext,
  name: string | undefined,
): Promise<Record<string, unknown>[]> {
  const locks = new BotLocks(context);
  const [bots, held] = await Promise.all([
    name === undefined
      ? context.resources.list('bot')
      : context.resources.require('bot', name).then((found) => [found.resource]),
    name === undefined ? locks.list() : locks.find(name).then((lock) => (lock === undefined ? [] : [lock])),
  ]);
  const lockOf = new Map(held.map((lock) => [lock.bot, lock]));
  return bots.map((bot) => {
    const lock = lockOf.get(bot.metadata.name);
    if (lock === undefined) return bot;
    const { bot: _named, ...locked } = lock;
    return { ...bot, status: { locked } };
  });
}

/**
 * The instances as `midctl get bot_instance` / `bots instances ls` list them (`bot`: that bot's only;
 * `instanceId` too: that one, which must exist), each instance of a locked bot with the bot's lock as
 * `status.bot_locked`: it is refused as surely as one locked itself, and a listing that showed it as
 * active would mislead whoever reads it.
 */
export async function listInstancesWithBotLocks(
  context: AuthContext,
  bot: string | undefined,
  instanceId?: string,
): Promise<Record<string, unknown>[]> {
  const locks = new BotLocks(context);
  const [instances, held] = await Promise.all([
    bot !== undefined && instanceId !== undefined
      ? context.instances.require(bot, instanceId).then((found) => [found.record])
      : context.instances.list(bot),
    bot === undefined ? locks.list() : locks.find(bot).then((lock) => (lock === undefined ? [] : [lock])),
  ]);
  const lockOf = new Map(held.map((lock) => [lock.bot, lock]));
  return instances.map((record) => {
    const resource = toBotInstanceResource(record);
    const lock = lockOf.get(record.bot_name);
    if (lock === undefined) return resource;
    const { bot: _named, ...botLocked } = lock;
    return { ...resource, status: { ...(resource['status'] as object), bot_locked: botLocked } };
  });
}
