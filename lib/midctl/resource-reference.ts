import {
  nameSegmentsOf,
  RESOURCE_KIND_LISTS,
  type ResourceKind,
  resourceKindOf,
} from '../api/resource-kinds.js';
import { closestNames } from '../core/closest-names.js';
import { ConfigError } from '../core/errors.js';
import { resourceNameProblem } from '../resources/metadata.js';

/** A reference as typed (`roles`, `role/access`, `bot_instance/robot/ID`), checked. */
export interface ResourceReference {
  /** The kind as typed (`roles` or `role`): the service takes either. */
  readonly kindText: string;
  readonly kind: ResourceKind;
  /** None (a list), the name, or for a bot instance the bot and possibly the instance id. */
  readonly names: readonly string[];
}

/** The reference as messages quote it: a token's name is its secret, so it is not echoed. */
function quoted(ref: string): string {
  const [kind = '', ...names] = ref.split('/');
  return JSON.stringify(resourceKindOf(kind) === 'token' && names.length > 0 ? `${kind}/…` : ref);
}

/** Why `names` are too many for `kind`, with the reference that was most likely meant. */
function extraNamesProblem(kind: ResourceKind, names: readonly string[]): string {
  const [first, second] = names;
  const instance =
    kind === 'bot' && names.length === 2
      ? `; an instance of bot "${first}" is bot_instance/${first}/${second}`
      : '';
  if (kind === 'bot_instance') return 'a bot instance is bot_instance/<bot>/<id>, with no more after the id';
  return `a ${kind} is named by one segment (${kind}/<name>); only bot instances take two (bot_instance/<bot>/<id>)${instance}`;
}

/** How each command takes a reference: `get` takes a kind alone too, `rm` needs every name of one resource. */
const COMMANDS = {
  get: { usage: 'get KIND[/NAME]', needsEveryName: false },
  rm: { usage: 'rm KIND/NAME', needsEveryName: true },
  lock: { usage: 'lock bot/NAME, bot_instance/BOT/ID or role/NAME', needsEveryName: true },
  unlock: { usage: 'unlock bot/NAME, bot_instance/BOT/ID or role/NAME', needsEveryName: true },
} as const;

/**
 * `tctl get role/a,role/b` shows both; midctl takes one resource per argument. The hint spells out the
 * commands, giving a part with no kind (`role/a,b`) the kind of the first.
 */
function commaListProblem(ref: string, command: keyof typeof COMMANDS): string {
  const parts = ref.split(',').filter((part) => part !== '');
  const [firstKind] = (parts[0] ?? '').split('/');
  const commands = parts.map((part) => {
    const full = part.includes('/') || parts[0]?.includes('/') !== true ? part : `${firstKind}/${part}`;
    return `\`midctl ${command} ${quoted(full).slice(1, -1)}\``;
  });
  return `a comma-separated list; midctl takes one resource per argument: run ${commands.join(', then ')}`;
}

/**
 * Reads `KIND`, `KIND/NAME` or `bot_instance/BOT/ID` as typed after `command`, before any request: the
 * service would answer a malformed one with a routing error, and one with a name too many used to act on
 * the resource the first name names. Every name is held to the rule resources are created with.
 */
export function parseResourceReference(ref: string, command: keyof typeof COMMANDS): ResourceReference {
  const { usage, needsEveryName } = COMMANDS[command];
  const refuse = (why: string) =>
    new ConfigError('invalid_reference', `${usage}: got ${quoted(ref)}, ${why}`);
  if (ref.includes(',')) throw refuse(commaListProblem(ref, command));
  const [kindText = '', ...names] = ref.split('/');
  if (kindText === '' || names.some((name) => name === '')) {
    throw refuse('which has an empty part; write KIND, KIND/NAME or bot_instance/BOT/ID, e.g. role/access');
  }
  const kind = resourceKindOf(kindText);
  if (kind === undefined) {
    // `tctl get locks`: locks are listed by a command of their own here.
    if (/^locks?$/.test(kindText)) {
      throw refuse(
        command === 'rm'
          ? 'but a lock is lifted with `midctl unlock bot/NAME`, `midctl unlock bot_instance/BOT/ID` or `midctl unlock role/NAME` (`midctl locks ls` lists them)'
          : 'but locks are listed with `midctl locks ls`',
      );
    }
    const [meant] = closestNames(kindText, RESOURCE_KIND_LISTS);
    // `midctl rm access`: a name without its kind, as `rm` takes no bare names.
    const bareName =
      meant === undefined && names.length === 0 && command === 'rm'
        ? `; to remove a resource named "${kindText}", write its kind too, e.g. role/${kindText}`
        : '';
    throw refuse(
      `unknown resource kind "${kindText}"; use one of ${RESOURCE_KIND_LISTS.join(', ')}${meant === undefined ? '' : ` (did you mean ${meant}?)`}${bareName}`,
    );
  }
  const segments = nameSegmentsOf(kind);
  if (names.length > segments) throw refuse(extraNamesProblem(kind, names));
  if (needsEveryName && names.length < segments) {
    throw refuse(
      kind === 'bot_instance'
        ? 'which names no instance; write bot_instance/<bot>/<id> (`midctl bots instances ls BOT` lists the ids)'
        : `which names no resource; write ${kind}/<name>`,
    );
  }
  for (const name of names) {
    const problem = resourceNameProblem(name);
    if (problem !== undefined) throw refuse(problem);
  }
  return { kindText, kind, names };
}
