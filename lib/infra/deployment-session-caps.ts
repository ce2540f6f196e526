import { formatDuration, parseDuration } from '../core/duration.js';
import { ConfigError } from '../core/errors.js';
import type { Resource } from '../resources/resource.js';
import { type BotFieldWords, botTimesProblem, DEFAULT_BOT_TIMES } from './bot-rules.js';
import type { DeploymentBot } from './deployment.js';
import { FILE_WORDS } from './deployment-words.js';

/**
 * Refuses a bot whose certificates a role defined in the same file caps below what its schedule needs.
 * The service issues no certificate longer than the shortest `max_session_ttl` of the roles it carries,
 * and says so only in the bot's logs: a bot renewing every hour with `certificate_ttl: 2h` under a role
 * capped at 1h would write certificates that expire as the next run starts, and its Expiry alarm would
 * never clear. Roles not in the file can only shorten the lifetime further, so what is known here is
 * enough to refuse, never to accept.
 *
 * @throws ConfigError `invalid_deployment` naming the bot's `certificate_ttl`, the role and the fix.
 */
export function refuseCappedLifetimes(
  bots: readonly DeploymentBot[],
  resources: readonly Resource[],
  source: string,
  locate: (path: readonly PropertyKey[]) => string | undefined,
): void {
  const caps = new Map<string, number>();
  for (const resource of resources) {
    const cap = resource.kind === 'role' ? resource.spec.options?.max_session_ttl : undefined;
    if (cap !== undefined) caps.set(resource.metadata.name, parseDuration(cap));
  }
  bots.forEach((bot, index) => {
    const ttl = bot.certificate_ttl ?? DEFAULT_BOT_TIMES.certificateTtlMs;
    for (const output of bot.outputs) {
      const capping = (output.roles ?? bot.roles)
        .filter((role) => (caps.get(role) ?? Number.POSITIVE_INFINITY) < ttl)
        .sort((a, b) => (caps.get(a) ?? 0) - (caps.get(b) ?? 0))[0];
      if (capping === undefined) continue;
      const capped = caps.get(capping) ?? ttl;
      const problem = botTimesProblem(
        {
          renewalIntervalMs: bot.renewal_interval ?? DEFAULT_BOT_TIMES.renewalIntervalMs,
          certificateTtlMs: capped,
          flexibleTimeWindowMs: bot.flexible_time_window ?? DEFAULT_BOT_TIMES.flexibleTimeWindowMs,
        },
        CAPPED_WORDS,
      );
      if (problem === undefined) continue;
      const path = bot.certificate_ttl === undefined ? ['bots', index] : ['bots', index, 'certificate_ttl'];
      const at = locate(path);
      throw new ConfigError(
        'invalid_deployment',
        `${source}: bots[${index}]${bot.certificate_ttl === undefined ? '' : '.certificate_ttl'}${at === undefined ? '' : ` (${at})`}: role "${capping}" caps the certificates of output "${output.name}" at its max_session_ttl, ${formatDuration(capped)}, not the ${formatDuration(ttl)} asked for; so ${problem.message}`,
      );
    }
  });
}

/** The file's words, with the lifetime named as what sets it now. */
const CAPPED_WORDS: BotFieldWords = {
  ...FILE_WORDS,
  field: { ...FILE_WORDS.field, certificateTtl: "the role's max_session_ttl" },
};
