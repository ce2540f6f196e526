import type { UpdateBotRequest } from '../api/admin.js';
import type { Bot } from '../resources/bot.js';

/** The trait `{{internal.logins}}` reads: `bots add --logins` and `bots update --*-logins` set it. */
const LOGINS_TRAIT = 'logins';

/** The items of `list`, then those of `more` that it does not hold yet. */
function union(list: readonly string[], more: readonly string[]): string[] {
  return [...new Set([...list, ...more])];
}

/** The values of a bot's logins trait, none when it has no such trait. */
export function botLogins(bot: Bot): string[] {
  return [...(bot.spec.traits?.find((trait) => trait.name === LOGINS_TRAIT)?.values ?? [])];
}

/**
 * The bot after `midctl bots update`: its roles added to or replaced, and likewise the values of its
 * logins trait. Other traits and fields stay as they were; the logins trait keeps its place among them.
 */
export function updatedBot(bot: Bot, request: UpdateBotRequest): Bot {
  const roles = request.set_roles ?? union(bot.spec.roles, request.add_roles ?? []);
  const logins =
    request.set_logins === undefined
      ? request.add_logins === undefined
        ? undefined
        : union(botLogins(bot), request.add_logins)
      : union([], request.set_logins);
  if (logins === undefined) return { ...bot, spec: { ...bot.spec, roles } };
  const traits = bot.spec.traits ?? [];
  const trait = { name: LOGINS_TRAIT, values: logins };
  return {
    ...bot,
    spec: {
      ...bot.spec,
      roles,
      traits: traits.some((t) => t.name === LOGINS_TRAIT)
        ? traits.map((t) => (t.name === LOGINS_TRAIT ? trait : t))
        : [...traits, trait],
    },
  };
}
