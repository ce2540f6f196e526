import {
  nameSegmentsOf,
  RESOURCE_KIND_LISTS,
  type ResourceKind,
  resourceKindOf,
} from '../api/resource-kinds.js';
import { ConfigError } from '../core/errors.js';

/** A reference as typed (`roles`, `role/access`, `bot_instance/robot/ID`), checked. */
export interface ResourceReference {
  /** The kind as typed (`roles` or `role`): the service takes either. */
  readonly kindText: string;
  readonly kind: ResourceKind;
  /** None (a list), the name, or for a bot instance the bot and possibly the instance id. */
  readonly names: readonly string[];
}

/** What a reference may leave out: `get` takes a kind alone, `rm` needs every name of one resource. */
export type ReferenceScope = 'list or one' | 'one';

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

/**
 * Reads `KIND`, `KIND/NAME` or `bot_instance/BOT/ID` as typed after a command (`usage` says which,
 * e.g. `rm KIND/NAME`), before any request: the service would answer a malformed one with a routing
 * error, and one with a name too many used to act on the resource the first name names.
 */
export function parseResourceReference(ref: string, usage: string, scope: ReferenceScope): ResourceReference {
  const refuse = (why: string) =>
    new ConfigError('invalid_reference', `${usage}: got ${quoted(ref)}, ${why}`);
  const [kindText = '', ...names] = ref.split('/');
  if (kindText === '' || names.some((name) => name === '')) {
    throw refuse('which has an empty part; write KIND, KIND/NAME or bot_instance/BOT/ID, e.g. role/access');
  }
  const kind = resourceKindOf(kindText);
  if (kind === undefined) {
    throw refuse(`unknown resource kind "${kindText}"; use one of ${RESOURCE_KIND_LISTS.join(', ')}`);
  }
  const segments = nameSegmentsOf(kind);
  if (names.length > segments) throw refuse(extraNamesProblem(kind, names));
  if (scope === 'one' && names.length < segments) {
    throw refuse(
      kind === 'bot_instance'
        ? 'which names no instance; write bot_instance/<bot>/<id> (`midctl bots instances ls BOT` lists the ids)'
        : `which names no resource; write ${kind}/<name>`,
    );
  }
  return { kindText, kind, names };
}
