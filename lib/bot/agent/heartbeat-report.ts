import type { Logger } from '../../core/logger.js';
import { VERSION } from '../../version.js';
import type { SigningIdentity } from '../auth-client/bot-api-client.js';
import type { ClusterConnection } from './cluster-connection.js';

/** What one run tells the auth service about the agent (`midctl bots instances show`). */
export interface HeartbeatReport {
  readonly hostname: string;
  readonly uptimeMs: number;
  readonly oneshot: boolean;
  readonly outputsWritten: number;
}

/**
 * Sends the run's heartbeat. A failure is logged and answered false, not thrown: the artifacts are
 * written, and a missed heartbeat only leaves `midctl bots instances` a run behind.
 */
export async function sendHeartbeat(
  connection: ClusterConnection,
  signing: SigningIdentity,
  report: HeartbeatReport,
  logger: Logger,
): Promise<boolean> {
  try {
    await connection.client.heartbeat(signing, {
      hostname: report.hostname.slice(0, 253),
      version: VERSION,
      uptime_seconds: Math.max(0, Math.floor(report.uptimeMs / 1000)),
      one_shot: report.oneshot,
      outputs_written: report.outputsWritten,
    });
    return true;
  } catch (error) {
    logger.warn('Could not record the heartbeat', {
      error: error instanceof Error ? error.message : String(error),
    });
    return false;
  }
}
