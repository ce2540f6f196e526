import type { AuthContext } from './auth-context.js';
import { toBotInstanceResource } from './bot-instance-store.js';
import { type BotLock, BotLocks } from './bot-locks.js';
import { RoleLocks } from './role-locks.js';

/*
 * Listings of what is locked, for operators: every lock (`midctl locks ls`) and the bots with theirs.
 */

/**
 * One lock in force, as `midctl locks ls` lists it (Teleport's `tctl get locks`): on a whole bot
 * (`bot/NAME`), on one instance (`bot_instance/BOT/ID`) or on a role (`role/NAME`), an operator's or
 * the service's own.
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
 * Every lock in force: the bots', the instances' (a read of every instance record, which an operator's
 * rare listing can afford) and the roles' (locks past their expiry are left out by every read).
 */
export async function listLocks(context: AuthContext): Promise<LockEntry[]> {
  const [botLocks, instances, roleLocks] = await Promise.all([
    new BotLocks(context).list(),
    context.instances.list(),
    new RoleLocks(context).list(),
  ]);
  const onBots = botLocks.map(({ bot, ...lock }): LockEntry => ({ target: `bot/${bot}`, ...lock }));
  const onRoles = roleLocks.map(({ role, ...lock }): LockEntry => ({ target: `role/${role}`, ...lock }));
  const onInstances = instances.flatMap((record): LockEntry[] =>
    record.locked === undefined
      ? []
      : [{ target: `bot_instance/${record.bot_name}/${record.instance_id}`, ...record.locked }],
  );
  return [...onBots, ...onInstances, ...onRoles];
}

/**
 * The bots as `midctl get bots` / `bots ls` list them (`name`: that one only), each locked one with
 * its lock as `status.locked`, which `create -f` ignores when the listing is fed back to it.
 */
export async function listBotsWithLocks(
  context: AuthContext,
  name: string | undefined,
): Promise<Record<string, unknown>[]> {
  const [bots, lockOf] = await Promise.all([
    name === undefined
      ? context.resources.list('bot')
      : context.resources.require('bot', name).then((found) => [found.resource]),
    botLocksByName(context, name),
  ]);
  return bots.map((bot) => {
    const locked = lockOf.get(bot.metadata.name);
    return locked === undefined ? bot : { ...bot, status: { locked } };
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
  const [instances, lockOf] = await Promise.all([
    bot !== undefined && instanceId !== undefined
      ? context.instances.require(bot, instanceId).then((found) => [found.record])
      : context.instances.list(bot),
    botLocksByName(context, bot),
  ]);
  return instances.map((record) => {
    const resource = toBotInstanceResource(record);
    const botLocked = lockOf.get(record.bot_name);
    if (botLocked === undefined) return resource;
    return { ...resource, status: { ...(resource['status'] as object), bot_locked: botLocked } };
  });
}

/** The operators' locks on `bot` (undefined: on every bot), by bot name, as listings show them. */
async function botLocksByName(
  context: AuthContext,
  bot: string | undefined,
): Promise<Map<string, Omit<BotLock, 'bot'>>> {
  const locks = new BotLocks(context);
  const held = bot === undefined ? await locks.list() : [await locks.find(bot)];
  return new Map(held.flatMap((lock) => (lock === undefined ? [] : [[lock.bot, withoutBot(lock)] as const])));
}

function withoutBot({ bot: _named, ...lock }: BotLock): Omit<BotLock, 'bot'> {
  return lock;
}
