import { type AddressInfo, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../../lib/api/api-client.js';

describe('a request to an auth service that never answers', () => {
  it('is given up once its timeout has passed, as its message says, also before the TLS handshake', async () => {
    // A frozen service (kill -STOP): the kernel accepts the connection, nothing ever answers.
    const sockets: Socket[] = [];
    const frozen = createServer((socket) => sockets.push(socket));
    await new Promise<void>((done) => frozen.listen(0, '127.0.0.1', done));
    const { port } = frozen.address() as AddressInfo;
    const client = new ApiClient({ baseUrl: `https://127.0.0.1:${port}`, timeoutMs: 1_000 });
    try {
      const started = performance.now();
      const error = await client.call({ method: 'GET', path: '/v1/admin/status' }).catch((e: unknown) => e);
      const waited = performance.now() - started;
      expect(error).toMatchObject({
        code: 'auth_timeout',
        message: `the auth service at https://127.0.0.1:${port} did not answer within 1000 ms`,
      });
      expect(waited).toBeGreaterThanOrEqual(990);
      // Not twice the timeout, as the socket's idle timeout took over TLS.
      expect(waited).toBeLessThan(1_800);
    } finally {
      client.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => frozen.close(done));
    }
  });
});
