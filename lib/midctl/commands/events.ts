import { renderTable } from '../../cli/table.js';
import { closestNames } from '../../core/closest-names.js';
import type { AdminApi, AuditEventJson } from '../admin-api.js';

/**
 * `midctl events ls`: the audit trail, newest first. The notes (where a filtered search stopped, a
 * `--bot` that names no bot) end the table; beside a JSON listing they go to `note` (stderr), so that
 * the output stays a JSON array.
 */
export async function listEvents(
  api: AdminApi,
  options: { limit?: number; type?: string; bot?: string; format: 'text' | 'json' },
  note: (text: string) => void,
): Promise<string> {
  const { events, incomplete_search: incomplete } = await api.searchEvents(options);
  const notes =
    (incomplete === undefined
      ? ''
      : `NOTE: the search stopped after the newest ${incomplete.searched} events${incomplete.back_to === null ? '' : ` (back to ${incomplete.back_to})`}; older events were not searched. The auth service also logs every audit record ("audit":true): search its log (CloudWatch Logs on AWS) for older ones\n`) +
    (events.length === 0 && options.bot !== undefined ? await unknownBotNote(api, options.bot) : '');
  if (options.format === 'json') {
    if (notes !== '') note(notes);
    return `${JSON.stringify(events, null, 2)}\n`;
  }
  const table = renderTable(
    ['Time', 'Type', 'Outcome', 'Code', 'Bot', 'Instance', 'Detail'],
    events.map((event) => [
      event.time,
      event.type,
      event.outcome,
      event.code ?? '',
      event.bot ?? '',
      event.instance?.slice(0, 8) ?? '',
      detail(event),
    ]),
  );
  return table + notes;
}

/**
 * The Detail column: what the event was about, or for a lock or unlock by an operator, who and why;
 * then the address the request came from, when the service knew it (a bot's calls, not an operator's);
 * on a record of a flood, the refusals it stands for that were not recorded each (their addresses may
 * differ from this one's).
 */
function detail(event: AuditEventJson): string {
  const remoteAddr = event['remote_addr'];
  const from = typeof remoteAddr === 'string' ? `from ${remoteAddr}` : '';
  const more = event['more_refused'];
  const flood = typeof more === 'number' ? `(+${more} more refused since the previous record)` : '';
  return [subject(event), from, flood].filter((part) => part !== '').join(' ');
}

function subject(event: AuditEventJson): string {
  const actor = event['actor'];
  const resource = event['resource'];
  const operatorLock = OPERATOR_LOCK_EVENTS.has(event.type) && typeof actor === 'string';
  if (!operatorLock) return String(resource ?? event['output'] ?? event['aws_arn'] ?? '');
  // A bot's lock names the bot in its own column; a role's names the role here.
  const who = typeof resource === 'string' ? `${resource} by ${actor}` : actor;
  return event.message === undefined ? who : `${who}: ${event.message}`;
}

const OPERATOR_LOCK_EVENTS = new Set(['bot.lock', 'bot.unlock', 'role.lock', 'role.unlock']);

/**
 * For a `--bot` listing that found nothing: whether the name is a bot's at all, with the likely one.
 * Events of a removed bot stay in the log, so the name was searched anyway and is not refused.
 */
async function unknownBotNote(api: AdminApi, bot: string): Promise<string> {
  const names = (await api.getResources('bots')).map((found) => found.metadata.name);
  if (names.includes(bot)) return '';
  const likely = closestNames(bot, names);
  const meant = likely.length === 0 ? '' : `; did you mean --bot ${likely.join(' or --bot ')}?`;
  return `NOTE: no bot is named "${bot}" now (a removed bot's events stay listed under its name)${meant}\n`;
}
