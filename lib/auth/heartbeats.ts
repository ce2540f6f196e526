import type { HeartbeatRequest } from '../api/heartbeat.js';
import type { AuthContext } from './auth-context.js';
import type { AuthenticatedBot } from './bot-authenticator.js';
import { pushBounded } from './bot-instance-store.js';

/** Records an agent's heartbeat on its instance (the ten latest are kept, plus the first). */
export async function recordHeartbeat(
  context: AuthContext,
  caller: AuthenticatedBot,
  request: HeartbeatRequest,
): Promise<void> {
  const heartbeat = { recorded_at: new Date(context.clock.now()).toISOString(), ...request };
  await context.instances.update(caller.bot.metadata.name, caller.instance.instance_id, (record) => ({
    ...record,
    initial_heartbeat: record.initial_heartbeat ?? heartbeat,
    latest_heartbeats: pushBounded(record.latest_heartbeats, heartbeat),
  }));
}
