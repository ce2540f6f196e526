import { join } from 'node:path';

/** Where the local auth server keeps what other local processes (midctl) read. */
export function localServerFiles(dataDir: string): {
  adminToken: string;
  hostCa: string;
  serverInfo: string;
} {
  return {
    adminToken: join(dataDir, 'admin-token'),
    hostCa: join(dataDir, 'host-ca.pem'),
    serverInfo: join(dataDir, 'auth-server.json'),
  };
}
