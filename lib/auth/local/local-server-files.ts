import { join } from 'node:path';

/** Where the local auth server keeps what other local processes (midctl) read. */
export function localServerFiles(dataDir: string): {
  adminToken: string;
  hostCa: string;
  serverInfo: string;
  /** Holds the pid of the one auth service running on the directory (see `lockDataDir`). */
  lock: string;
  database: string;
  caFolder: string;
} {
  return {
    adminToken: join(dataDir, 'admin-token'),
    hostCa: join(dataDir, 'host-ca.pem'),
    serverInfo: join(dataDir, 'auth-server.json'),
    lock: join(dataDir, 'auth-server.lock'),
    database: join(dataDir, 'state.db'),
    // FileCaStore's folder: the CA keys.
    caFolder: join(dataDir, 'ca'),
  };
}
