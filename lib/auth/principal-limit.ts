import type { Bot } from '../resources/bot.js';
import type { Node } from '../resources/node.js';
import type { Role } from '../resources/role.js';
import { botTraits } from './role-resolver.js';
import { RoleSet } from './role-set.js';
import { OPENSSH_MAX_PRINCIPALS, planSshPrincipals } from './ssh-user-principals.js';

/** A bot whose identity outputs, holding all its roles, would carry more principals than OpenSSH accepts. */
export interface PrincipalLimitBreach {
  readonly bot: string;
  readonly logins: number;
  readonly scoped: number;
  readonly total: number;
}

/**
 * The bots whose identity outputs would be refused with `too_many_principals` at their next renewal, as
 * the cluster stands: every node marked `scoped_principals` adds a principal per login a bot may use
 * there, and only issuance counts them. Checked after a change to roles, nodes or bots, so that whoever
 * made the change hears of it then, not from a bot that stopped renewing. Roles a bot names that do not
 * exist are left out (its outputs fail for that reason anyway); outputs that ask for fewer roles may still
 * fit.
 */
export function botsOverPrincipalLimit(cluster: {
  readonly bots: readonly Bot[];
  readonly roles: readonly Role[];
  readonly nodes: readonly Node[];
}): PrincipalLimitBreach[] {
  const rolesByName = new Map(cluster.roles.map((role) => [role.metadata.name, role]));
  return cluster.bots.flatMap((bot) => {
    const roles = bot.spec.roles.flatMap((name) => rolesByName.get(name) ?? []);
    const plan = planSshPrincipals(new RoleSet(roles, botTraits(bot)), cluster.nodes);
    if (plan.all.length <= OPENSSH_MAX_PRINCIPALS) return [];
    return [
      {
        bot: bot.metadata.name,
        logins: plan.logins.length,
        scoped: plan.scoped.length,
        total: plan.all.length,
      },
    ];
  });
}
