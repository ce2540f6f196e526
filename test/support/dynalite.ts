import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

interface DynaliteOptions {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  /** A LevelDB directory; in memory when unset. */
  path?: string;
}

type DynaliteFactory = (options: DynaliteOptions) => Server;

// dynalite is CommonJS without type declarations; load it through require with the one signature we use.
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

export interface RunningDynalite {
  /** `http://127.0.0.1:PORT`, for the DynamoDB client `endpoint`. */
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts an in-memory DynamoDB emulator (dynalite) in this process on 127.0.0.1, with tables ACTIVE
 * as soon as they are created, updated or deleted. Each call gets its own empty database.
 */
export async function startDynalite(): Promise<RunningDynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets from SDK clients would otherwise hold the close open.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
