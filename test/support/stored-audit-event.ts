import type { ItemInput } from '../../lib/auth/storage/storage-backend.js';

/**
 * A heartbeat audit record of `bot` at `time`, as the audit log stores it: for tests that fill a log
 * with a busy cluster's older events straight into storage (recording each would take long).
 */
export function storedHeartbeatEvent(time: number, bot: string): ItemInput {
  const at = new Date(time).toISOString();
  const event = { time: at, id: `${at}.000000.00000000`, type: 'bot.heartbeat', outcome: 'success', bot };
  return { key: `events/${event.id}`, value: JSON.stringify(event) };
}
