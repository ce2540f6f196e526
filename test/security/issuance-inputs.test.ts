import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/api/routes.js';
import type { BotRequest } from '../../lib/auth/bot-authenticator.js';
import type { ApiRequest, ApiResponse } from '../../lib/auth/http/api-request.js';
import { ApiRouter } from '../../lib/auth/http/api-router.js';
import { BearerAdminAuthenticator } from '../../lib/auth/http/bearer-admin-authenticator.js';
import { bytesOf, childrenOf, isContextTag, parseDer } from '../../lib/pki/der.js';
import { publicKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import {
  createFixture,
  type Fixture,
  makeSigner,
  newPublicKeyPem,
  type Signer,
} from '../auth/auth-fixture.js';
import { runCommand } from '../support/run-command.js';

/**
 * The issuance rows of the catalogue, through the HTTP router as a bot or an operator would reach it:
 * TTLs that are not a positive number of seconds, public keys that are weak or not keys at each route
 * that takes one, and the entropy of the serials the service puts into certificates.
 */
const ADMIN_SECRET = 'f'.repeat(64);
const admin = { authorization: `Bearer ${ADMIN_SECRET}` };

let requests = 0;
function apiRequest(method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  requests += 1;
  return {
    method,
    path,
    query: new URLSearchParams(),
    headers,
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    requestId: `req-${requests}`,
  } satisfies ApiRequest;
}

function fromBot(signed: BotRequest): ApiRequest {
  requests += 1;
  return {
    method: signed.method,
    path: signed.path,
    query: new URLSearchParams(),
    headers: signed.headers,
    body: signed.body,
    requestId: `req-${requests}`,
  };
}

function errorOf(response: ApiResponse): { code: string; message: string } {
  return (JSON.parse(response.body) as { error: { code: string; message: string } }).error;
}

async function setup(): Promise<{ fixture: Fixture; api: ApiRouter; signer: Signer; token: string }> {
  const fixture = await createFixture();
  const api = new ApiRouter(fixture.service, { admin: new BearerAdminAuthenticator(ADMIN_SECRET) });
  const { signer } = await fixture.join(await fixture.addBot('robot', ['ops']));
  const token = await fixture.addBot('spare', ['ops']);
  return { fixture, api, signer, token };
}

const pemOf = (der: Buffer) =>
  `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`;
const p256Der = () =>
  generateKeyPair('balanced', 'subject').publicKey.export({ type: 'spki', format: 'der' });

/** Public keys that must never be certified, with the code the caller gets. */
const BAD_KEYS: Array<[string, () => string, number, string]> = [
  [
    'an RSA-1024 key',
    () =>
      generateKeyPairSync('rsa', { modulusLength: 1024 })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    400,
    'weak_public_key',
  ],
  [
    'an EC point off the curve',
    () => {
      const der = p256Der();
      der[der.length - 1] = (der[der.length - 1] as number) ^ 1;
      return pemOf(der);
    },
    400,
    'malformed_public_key',
  ],
  ['truncated DER', () => pemOf(p256Der().subarray(0, 40)), 400, 'malformed_public_key'],
  [
    'base64 that is not DER',
    () => pemOf(Buffer.from('not a key at all, just words')),
    400,
    'malformed_public_key',
  ],
  [
    'a key type the service does not certify (Ed25519)',
    () => generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    400,
    'unsupported_public_key',
  ],
  ['text that is not PEM', () => 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA', 400, 'invalid_body'],
  [
    'a private key',
    () =>
      generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
    400,
    'invalid_body',
  ],
];

describe('TTLs at the API', () => {
  const badTtls: Array<[string, unknown]> = [
    ['zero', 0],
    ['negative', -3600],
    ['fractional', 1.5],
    ['a string', '3600'],
    ['over a year', 367 * 86_400],
    ['not a number', null],
  ];

  it.each(badTtls)(
    'refuses an output TTL that is %s, naming body.ttl_seconds; nothing is issued and the refusal is audited',
    async (_what, ttl) => {
      const { fixture, api, signer } = await setup();
      const body = { output: 'identity', public_key: newPublicKeyPem(), ttl_seconds: ttl };
      const response = await api.handle(fromBot(signer.request(ROUTES.botCertificates, body)));
      expect(response.status).toBe(400);
      expect(errorOf(response)).toMatchObject({
        code: 'invalid_body',
        message: expect.stringContaining('body.ttl_seconds'),
      });
      const events = await fixture.service.admin.events({ type: 'cert.issue' });
      expect(events).toEqual([
        expect.objectContaining({ outcome: 'failure', code: 'invalid_body', bot: 'robot' }),
      ]);
    },
  );

  it.each(badTtls)('refuses a join token TTL that is %s at bots add and tokens add', async (_what, ttl) => {
    const { fixture, api } = await setup();
    const before = await fixture.service.admin.getResources('token');
    for (const [path, body] of [
      [ROUTES.adminBots, { name: 'other', roles: ['ops'], ttl_seconds: ttl }],
      [ROUTES.adminTokens, { bot_name: 'robot', ttl_seconds: ttl }],
    ] as const) {
      const response = await api.handle(apiRequest('POST', path, body, admin));
      expect(response.status).toBe(400);
      expect(errorOf(response)).toMatchObject({
        code: 'invalid_body',
        message: expect.stringContaining('body.ttl_seconds'),
      });
    }
    expect(await fixture.service.admin.getResources('token')).toEqual(before);
  });

  it('caps a TTL over the roles maximum instead of honouring it', async () => {
    const { api, signer, fixture } = await setup();
    const body = { output: 'identity', public_key: newPublicKeyPem(), ttl_seconds: 366 * 86_400 };
    const response = await api.handle(fromBot(signer.request(ROUTES.botCertificates, body)));
    expect(response.status).toBe(200);
    const { expires_at } = JSON.parse(response.body) as { expires_at: string };
    // ops has max_session_ttl 2h.
    expect(Date.parse(expires_at) - fixture.clock.now()).toBe(2 * 3_600_000);
  });
});

describe.each(BAD_KEYS)('%s', (_what, badKey, status, code) => {
  it('is refused at join, and the token stays usable', async () => {
    const { api, token, fixture } = await setup();
    const response = await api.handle(
      apiRequest('POST', ROUTES.join, { join_method: 'token', token, public_key: badKey() }),
    );
    expect(response.status).toBe(status);
    expect(errorOf(response).code).toBe(code);
    expect((await fixture.service.admin.events({ type: 'bot.join', limit: 1 }))[0]).toMatchObject({
      outcome: 'failure',
      code,
    });
    const retry = await api.handle(
      apiRequest('POST', ROUTES.join, { join_method: 'token', token, public_key: newPublicKeyPem() }),
    );
    expect(retry.status).toBe(200);
  });

  it('is refused at renewal, without moving or locking the instance', async () => {
    const { api, signer, fixture } = await setup();
    const response = await api.handle(fromBot(signer.request(ROUTES.botRenew, { public_key: badKey() })));
    expect(response.status).toBe(status);
    expect(errorOf(response).code).toBe(code);
    const { record } = await fixture.service.context.instances.require('robot', signer.identity.instance_id);
    expect(record.generation).toBe(1);
    expect(record.locked).toBeUndefined();
    // The same identity renews with a good key afterwards.
    const keys = generateKeyPair('balanced', 'subject');
    const renewed = await api.handle(
      fromBot(signer.request(ROUTES.botRenew, { public_key: publicKeyToPem(keys.publicKey) })),
    );
    expect(renewed.status).toBe(200);
    expect(JSON.parse(renewed.body)).toMatchObject({ generation: 2 });
  });

  it('is refused for output certificates, and nothing is issued', async () => {
    const { api, signer, fixture } = await setup();
    const response = await api.handle(
      fromBot(signer.request(ROUTES.botCertificates, { output: 'identity', public_key: badKey() })),
    );
    expect(response.status).toBe(status);
    expect(errorOf(response).code).toBe(code);
    const issued = await fixture.service.admin.events({ type: 'cert.issue' });
    expect(issued.filter((event) => event.outcome === 'success')).toEqual([]);
  });
});

/** The content octets of the certificate's serialNumber INTEGER, read from the DER. */
function serialContent(pem: string): Buffer {
  const code = 'test';
  const [tbs] = childrenOf(
    parseDer(Buffer.from(new X509Certificate(pem).raw), code, 'certificate'),
    code,
    'c',
  );
  const fields = childrenOf(tbs, code, 'tbs');
  return bytesOf(fields[isContextTag(fields[0], 0) ? 1 : 0], code, 'serial');
}

describe('serial entropy of issued certificates', () => {
  it('gives 1,000 issued certificates distinct, positive serials drawn from 128 random bits', async () => {
    const { fixture, signer } = await setup();
    const caller = await fixture.service.authenticator.authenticate(
      signer.request(ROUTES.botCertificates, {}),
      { requestId: 'serials' },
    );
    const publicKey = newPublicKeyPem();
    const serials: bigint[] = [];
    for (let i = 0; i < 1000; i += 1) {
      const issued = await fixture.service.outputs.issue(
        caller,
        { output: 'identity', public_key: publicKey },
        { requestId: `serial-${i}` },
      );
      const content = serialContent(issued.tls_cert as string);
      // A DER INTEGER is signed: a first content byte under 0x80 keeps the serial positive.
      expect(content[0] as number).toBeLessThan(0x80);
      expect(content.length).toBeLessThanOrEqual(17);
      const value = BigInt(`0x${content.toString('hex')}`);
      expect(value > 0n).toBe(true);
      // The answer's serial is the number the certificate carries, in hex without leading zero bytes
      // (as openssl prints it): at most the 16 random bytes the issuer drew.
      expect(issued.serial).toMatch(/^[0-9a-f]{2,32}$/);
      expect(issued.serial).not.toMatch(/^00/);
      expect(issued.serial).toBe(content.toString('hex').replace(/^(00)+(?=..)/, ''));
      expect(value).toBe(BigInt(`0x${issued.serial}`));
      serials.push(value);
    }
    expect(new Set(serials).size).toBe(1000);
    // Every one of the 128 bit positions varies: set in about half of the serials. For fair coins the
    // bounds are over 6 standard deviations wide; a counter, a timestamp or a short random part fails.
    for (let bit = 0n; bit < 128n; bit += 1n) {
      const set = serials.filter((serial) => (serial >> bit) & 1n).length;
      expect(set, `bit ${bit}`).toBeGreaterThan(400);
      expect(set, `bit ${bit}`).toBeLessThan(600);
    }
    expect(serials.every((serial) => serial < 1n << 128n)).toBe(true);
    // Bot identity certificates come from the same issuer: their serials are distinct too.
    const renewals = new Set<string>([signer.identity.serial]);
    let current = signer;
    for (let i = 0; i < 20; i += 1) {
      const keys = generateKeyPair('balanced', 'subject');
      const request = { public_key: publicKeyToPem(keys.publicKey) };
      const renewCaller = await fixture.service.authenticator.authenticate(
        current.request(ROUTES.botRenew, request),
        { requestId: 'r' },
      );
      const identity = await fixture.service.renew(renewCaller, request, { requestId: 'r' });
      renewals.add(identity.serial);
      current = makeSigner(identity, keys.privateKey, fixture.clock);
    }
    expect(renewals.size).toBe(21);
  });
});

describe('the certificates the service issues', () => {
  /** The extensions and validity as `openssl x509 -text` shows them, which is what a verifier reads. */
  async function profile(pem: string) {
    const shown = await runCommand('openssl', ['x509', '-noout', '-text', '-nameopt', 'RFC2253'], {
      input: pem,
    });
    expect(shown.code).toBe(0);
    const text = shown.stdout;
    const extension = (heading: string) => new RegExp(`${heading}:( critical)? *\\n\\s+(.*)`).exec(text);
    return {
      text,
      notBefore: Date.parse(/Not Before: (.*)/.exec(text)?.[1] ?? ''),
      notAfter: Date.parse(/Not After : (.*)/.exec(text)?.[1] ?? ''),
      basicConstraints: extension('X509v3 Basic Constraints'),
      keyUsage: extension('X509v3 Key Usage'),
      extendedKeyUsage: extension('X509v3 Extended Key Usage'),
      // Extension names sit at one indentation inside "X509v3 extensions:"; an unknown one shows its OID.
      extensions: [
        ...(/X509v3 extensions:\n([\s\S]*?)\n {4}Signature Algorithm/.exec(text)?.[1] ?? '').matchAll(
          /^ {12}(\S[^:]*):/gm,
        ),
      ].map((match) => match[1]),
    };
  }

  it('backdates NotBefore one minute, says CA:FALSE, and allows client authentication only', async () => {
    const { fixture, signer } = await setup();
    await fixture.service.admin.putResources(
      [
        {
          kind: 'app',
          version: 'v3',
          metadata: { name: 'grafana', labels: { team: 'payments' } },
          spec: { uri: 'http://127.0.0.1:3000' },
        },
      ],
      false,
      'test',
    );
    await fixture.service.admin.updateBot('robot', { add_roles: ['apps'] }, 'test');
    const issue = async (body: Record<string, unknown>) => {
      const request = { public_key: newPublicKeyPem(), ...body };
      const caller = await fixture.service.authenticator.authenticate(
        signer.request(ROUTES.botCertificates, request),
        {
          requestId: 'p',
        },
      );
      return fixture.service.outputs.issue(caller, request as never, { requestId: 'p' });
    };
    const caEnd = fixture.service.context.cas.tlsUser.notAfter.getTime();
    const now = fixture.clock.now();
    const certificates = {
      'bot identity': signer.identity.tls_cert,
      'identity output': (await issue({ output: 'identity' })).tls_cert as string,
      'application output': (await issue({ output: 'application', app_name: 'grafana' })).tls_cert as string,
    };
    for (const [what, pem] of Object.entries(certificates)) {
      const seen = await profile(pem);
      expect(seen.notBefore, what).toBe(now - 60_000);
      expect(seen.notAfter, what).toBeLessThanOrEqual(Math.min(caEnd, now + 2 * 3_600_000));
      expect(seen.basicConstraints?.[1], what).toBe(' critical');
      expect(seen.basicConstraints?.[2], what).toBe('CA:FALSE');
      expect(seen.keyUsage?.[1], what).toBe(' critical');
      expect(seen.keyUsage?.[2], what).toBe('Digital Signature');
      expect(seen.extendedKeyUsage?.[2], what).toBe('TLS Web Client Authentication');
      expect(new Set(seen.extensions), what).toEqual(
        new Set([
          'X509v3 Basic Constraints',
          'X509v3 Key Usage',
          'X509v3 Extended Key Usage',
          'X509v3 Subject Key Identifier',
          'X509v3 Authority Key Identifier',
          ...(seen.text.includes('X509v3 Subject Alternative Name')
            ? ['X509v3 Subject Alternative Name']
            : []),
        ]),
      );
    }
    // The names come from the resources: the bot's instance and the app's name, never the request.
    expect(new X509Certificate(certificates['bot identity']).subjectAltName).toMatch(
      new RegExp(
        `^URI:mid://example\\.test/bots/robot/instances/${signer.identity.instance_id}/generation/1$`,
      ),
    );
    expect(new X509Certificate(certificates['application output']).subjectAltName).toBe(
      'URI:mid://example.test/apps/grafana',
    );
    await expect(
      issue({ output: 'application', app_name: 'grafana,URI:mid://example.test/apps/payroll' }),
    ).rejects.toMatchObject({
      code: 'app_not_found',
    });
  });
});
