import type { AdminApi, ResourceJson } from './admin-api.js';
import { type InstanceStatusJson, instanceStatus } from './instance-status.js';

/*
 * Removing a bot or an instance revokes nothing already issued, and a midbot still running learns of it
 * only when the auth service refuses its next renewal: then it stops for good. An operator removing
 * an active one should hear both, before a CI job or a service finds out.
 */

const WRITTEN_STAY_VALID = 'Certificates already written stay valid until they expire.';

function statusOf(instance: ResourceJson): InstanceStatusJson {
  return (instance['status'] ?? {}) as InstanceStatusJson;
}

/** `ID (on HOST, last heartbeat TIME)`, what an operator recognises an instance by. */
function describeInstance(instance: ResourceJson): string {
  const heartbeat = statusOf(instance).latest_heartbeats?.at(-1);
  const seen =
    heartbeat === undefined ? '' : ` (on ${heartbeat.hostname}, last heartbeat ${heartbeat.recorded_at})`;
  return `${instance.metadata.name}${seen}`;
}

function isActive(instance: ResourceJson, now: number): boolean {
  return instanceStatus(statusOf(instance), now) === 'active';
}

/**
 * What removing bot `bot` does to its agents still running, or undefined when none of its instances
 * is active. Read before the removal, which takes the instances with it.
 */
export async function botRemovalNote(api: AdminApi, bot: string, now: number): Promise<string | undefined> {
  const active = (await api.getResources('bot_instance', bot)).filter((instance) => isActive(instance, now));
  if (active.length === 0) return undefined;
  const one = active.length === 1;
  return `bot "${bot}" had ${one ? 'an active instance' : `${active.length} active instances`}, ${active.map(describeInstance).join(', ')}: ${one ? 'its midbot is' : 'their midbots are'} refused at the next renewal or join and ${one ? 'stops' : 'stop'} for good (a re-created bot needs a new join token). ${WRITTEN_STAY_VALID}`;
}

/**
 * What removing instance `id` of `bot` does to its agent, or undefined when it is not active. Read
 * before the removal.
 */
export async function instanceRemovalNote(
  api: AdminApi,
  bot: string,
  id: string,
  now: number,
): Promise<string | undefined> {
  const [instance] = await api.getResources('bot_instance', bot, id);
  if (instance === undefined || !isActive(instance, now)) return undefined;
  const what = `instance ${bot}/${describeInstance(instance)} was active`;
  // An iam identity is never renewed: its midbot joins at every run, as a new instance once this one is gone.
  if (statusOf(instance).renewable === false) {
    return `${what}: an iam bot joins again at its next run, as a new instance; to stop it, remove the bot (\`midctl bots rm ${bot}\`). ${WRITTEN_STAY_VALID}`;
  }
  return `${what}: its midbot is refused at its next renewal and stops until it joins again with a new token (\`midctl tokens add --type=bot --bot-name=${bot}\`). ${WRITTEN_STAY_VALID}`;
}
