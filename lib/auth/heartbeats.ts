import type { HeartbeatRequest } from '../api/heartbeat.js';
import type { AuthContext } from './auth-context.js';
import type { AuthenticatedBot } from './bot-authenticator.js';
import { pushBounded } from './bot-instance-store.js';

/**
 * Records an agent's heartbeat on its instance (the ten latest are kept, plus the first), swapping
 * the record the authenticator read: one round trip, and a fresh read only if someone wrote since.
 */
export async function recordHeartbeat(
  context: AuthContext,
  caller: AuthenticatedBot,
  request: HeartbeatRequest,
): Promise<void> {
  const heartbeat = { recorded_at: new Date(context.clock.now()).toISOString(), ...request };
  const known = { record: caller.instance, revision: caller.instanceRevision };
  await context.instances.updateFrom(known, (record) => ({
    ...record,
    initial_heartbeat: record.initial_heartbeat ?? heartbeat,
    latest_heartbeats: pushBounded(record.latest_heartbeats, heartbeat),
  }));
}
