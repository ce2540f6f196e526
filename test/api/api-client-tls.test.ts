import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAuthServer, startLocalAuthServer } from '../../lib/auth/local/local-auth-server.js';
import { localServerFiles } from '../../lib/auth/local/local-server-files.js';
import { BotApiClient } from '../../lib/bot/auth-client/bot-api-client.js';
import { systemClock } from '../../lib/core/clock.js';
import { silentLogger } from '../../lib/core/logger.js';

describe('an auth service address its certificate does not name', () => {
  let root: string;
  let server: LocalAuthServer;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mid-api-tls-'));
    // All interfaces, so that 127.0.0.2 reaches it too: an address of this host its certificate lacks.
    server = await startLocalAuthServer({
      dataDir: join(root, 'data'),
      host: '0.0.0.0',
      port: 0,
      logger: silentLogger,
      iamJoin: false,
    });
  });

  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('is refused naming what the certificate holds and --public-addr, the way to add it', async () => {
    const ca = readFileSync(localServerFiles(join(root, 'data')).hostCa, 'utf8');
    const client = new BotApiClient(`https://127.0.0.2:${server.port}`, ca, systemClock);
    try {
      await expect(client.ping()).rejects.toMatchObject({
        code: 'auth_unreachable',
        message: `the auth service at https://127.0.0.2:${server.port} presented a certificate that does not name 127.0.0.2 (ERR_TLS_CERT_ALTNAME_INVALID): the certificate of \`midctl auth start\` names only localhost, the loopback addresses, its --listen host and its --public-addr values; use one of those, or restart it with --public-addr 127.0.0.2`,
      });
    } finally {
      client.close();
    }
  });
});
