import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/api/routes.js';
import { MemoryBackend } from '../../lib/auth/storage/memory-backend.js';
import { ManualClock } from '../../lib/core/clock.js';
import { publicKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { parseSshCertificate } from '../../lib/pki/ssh-certificate.js';
import { createFixture, issueOutput, makeSigner, renewIdentity } from './auth-fixture.js';

/** Registers an agentless OpenSSH node named after its hostname. */
function addNode(fixture: Awaited<ReturnType<typeof createFixture>>, hostname: string, addr: string) {
  return fixture.service.admin.putResources(
    [
      {
        kind: 'node',
        sub_kind: 'openssh',
        version: 'v2',
        metadata: { name: hostname },
        spec: { addr, hostname },
      },
    ],
    false,
    'test',
  );
}

async function joined(roles: string[], logins?: string[]) {
  const fixture = await createFixture();
  const token = await fixture.addBot('robot', roles, logins);
  const { signer } = await fixture.join(token);
  return { fixture, signer };
}

describe('bot calls', () => {
  describe('authentication', () => {
    it('refuses a request signed more than five minutes ago', async () => {
      const { fixture, signer } = await joined(['ops']);
      const request = signer.request(
        ROUTES.botHeartbeat,
        {},
        { timestamp: fixture.clock.now() - 6 * 60_000 },
      );
      await expect(
        fixture.service.authenticator.authenticate(request, { requestId: 't' }),
      ).rejects.toMatchObject({ code: 'stale_request' });
    });

    it('refuses a replayed request (same nonce twice)', async () => {
      const { fixture, signer } = await joined(['ops']);
      const request = signer.request(ROUTES.botHeartbeat, {});
      await fixture.service.authenticator.authenticate(request, { requestId: 't' });
      await expect(
        fixture.service.authenticator.authenticate(request, { requestId: 't' }),
      ).rejects.toMatchObject({ code: 'replayed_request' });
      // Refused calls are on record, with who made them.
      const events = await fixture.service.admin.events({ type: 'bot.authenticate' });
      expect(events).toEqual([
        expect.objectContaining({
          outcome: 'failure',
          code: 'replayed_request',
          bot: 'robot',
          request_id: 't',
        }),
      ]);
    });

    it('refuses a replay for as long as its timestamp is fresh, to the last millisecond', async () => {
      const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
      const fixture = await createFixture(new MemoryBackend(clock), clock);
      const { signer } = await fixture.join(await fixture.addBot('robot', ['ops']));
      // Signed by a clock five minutes ahead: fresh until ten minutes from now, both ends included.
      const request = signer.request(
        ROUTES.botHeartbeat,
        {},
        { timestamp: fixture.clock.now() + 5 * 60_000 },
      );
      await fixture.service.authenticator.authenticate(request, { requestId: 't' });
      fixture.clock.advance(10 * 60_000);
      await expect(
        fixture.service.authenticator.authenticate(request, { requestId: 't' }),
      ).rejects.toMatchObject({ code: 'replayed_request' });
      fixture.clock.advance(1);
      await expect(
        fixture.service.authenticator.authenticate(request, { requestId: 't' }),
      ).rejects.toMatchObject({ code: 'stale_request' });
    });

    it('refuses a body changed after signing', async () => {
      const { fixture, signer } = await joined(['ops']);
      const request = { ...signer.request(ROUTES.botHeartbeat, { a: 1 }), body: Buffer.from('{"a":2}') };
      await expect(
        fixture.service.authenticator.authenticate(request, { requestId: 't' }),
      ).rejects.toMatchObject({ code: 'bad_signature' });
    });

    it('refuses an expired bot certificate', async () => {
      const { fixture, signer } = await joined(['ops']);
      fixture.clock.advance(2 * 3_600_000);
      await expect(
        fixture.service.authenticator.authenticate(signer.request(ROUTES.botHeartbeat, {}), {
          requestId: 't',
        }),
      ).rejects.toMatchObject({
        code: 'certificate_expired',
      });
    });

    it('still refuses a certificate it accepted before once it has expired', async () => {
      const { fixture, signer } = await joined(['ops']);
      const call = () =>
        fixture.service.authenticator.authenticate(signer.request(ROUTES.botHeartbeat, {}), {
          requestId: 't',
        });
      await expect(call()).resolves.toMatchObject({ bot: { metadata: { name: 'robot' } } });
      fixture.clock.advance(2 * 3_600_000);
      await expect(call()).rejects.toMatchObject({ code: 'certificate_expired' });
    });

    it('refuses a certificate another cluster accepted, and accepts its own after refusing', async () => {
      const { fixture, signer } = await joined(['ops']);
      const other = await joined(['ops']);
      const heartbeat = (service: typeof fixture.service, from: typeof signer) =>
        service.authenticator.authenticate(from.request(ROUTES.botHeartbeat, {}), { requestId: 't' });
      await expect(heartbeat(other.fixture.service, other.signer)).resolves.toBeDefined();
      await expect(heartbeat(fixture.service, other.signer)).rejects.toMatchObject({
        code: 'untrusted_certificate',
      });
      await expect(heartbeat(fixture.service, signer)).resolves.toBeDefined();
      await expect(heartbeat(other.fixture.service, signer)).rejects.toMatchObject({
        code: 'untrusted_certificate',
      });
    });

    it('refuses requests without the signature headers', async () => {
      const { fixture } = await joined(['ops']);
      await expect(
        fixture.service.authenticator.authenticate(
          { method: 'POST', path: ROUTES.botHeartbeat, headers: {}, body: Buffer.alloc(0) },
          { requestId: 't' },
        ),
      ).rejects.toMatchObject({ code: 'bot_auth_missing' });
    });

    it('refuses a certificate from another cluster', async () => {
      const { fixture } = await joined(['ops']);
      const other = await joined(['ops']);
      await expect(
        fixture.service.authenticator.authenticate(other.signer.request(ROUTES.botHeartbeat, {}), {
          requestId: 't',
        }),
      ).rejects.toMatchObject({ code: 'untrusted_certificate' });
    });
  });

  describe('renewal and the generation counter', () => {
    it('renews to the next generation for a fresh key', async () => {
      const { fixture, signer } = await joined(['ops']);
      const renewed = await renewIdentity(fixture, signer);
      expect(renewed.identity.generation).toBe(2);
      expect(renewed.identity.instance_id).toBe(signer.identity.instance_id);
      const again = await renewIdentity(fixture, renewed);
      expect(again.identity.generation).toBe(3);
    });

    it('locks the instance when a certificate of an older generation is used, and audits it', async () => {
      const { fixture, signer } = await joined(['ops']);
      await renewIdentity(fixture, signer);
      await expect(renewIdentity(fixture, signer)).rejects.toMatchObject({ code: 'generation_mismatch' });
      const { record } = await fixture.service.context.instances.require(
        'robot',
        signer.identity.instance_id,
      );
      expect(record.locked?.reason).toContain('generation 1');
      const locks = await fixture.service.admin.events({ type: 'bot.lock' });
      expect(locks).toHaveLength(1);
      expect(locks[0]).toMatchObject({ bot: 'robot', code: 'generation_mismatch' });
    });

    it('renews when a heartbeat wrote the instance between authentication and renewal', async () => {
      const { fixture, signer } = await joined(['ops']);
      const request = { public_key: publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey) };
      const meta = { requestId: 'r' };
      const renewing = await fixture.service.authenticator.authenticate(
        signer.request(ROUTES.botRenew, request),
        meta,
      );
      const beating = await fixture.service.authenticator.authenticate(
        signer.request(ROUTES.botHeartbeat, {}),
        meta,
      );
      await fixture.service.heartbeat(beating, {
        hostname: 'h',
        version: '0',
        uptime_seconds: 1,
        one_shot: false,
        outputs_written: 0,
      });
      const renewed = await fixture.service.renew(renewing, request, meta);
      expect(renewed.generation).toBe(2);
      const { record } = await fixture.service.context.instances.require(
        'robot',
        signer.identity.instance_id,
      );
      expect(record.locked).toBeUndefined();
      expect(record.generation).toBe(2);
      expect(record.latest_heartbeats).toHaveLength(1);
      expect(await fixture.service.admin.events({ type: 'bot.lock' })).toEqual([]);
    });

    it("gives the bot's identity the lifetime it asks for (its certificate_ttl), capped by its roles", async () => {
      const fixture = await createFixture();
      const lifetime = (identity: { issued_at: string; expires_at: string }) =>
        (Date.parse(identity.expires_at) - Date.parse(identity.issued_at)) / 3_600_000;
      const joinAsking = async (roles: string[], ttlSeconds: number) => {
        const keys = generateKeyPair('balanced', 'subject');
        const token = await fixture.addBot(`bot-${roles.join('-')}`, roles);
        return fixture.service.join.join(
          {
            join_method: 'token',
            token,
            public_key: publicKeyToPem(keys.publicKey),
            ttl_seconds: ttlSeconds,
          },
          { requestId: 't' },
        );
      };
      // No cap in "apps": 3 h as asked.
      expect(lifetime(await joinAsking(['apps'], 3 * 3600))).toBeCloseTo(3, 3);
      // "ops" caps certificates at 2 h.
      expect(lifetime(await joinAsking(['ops'], 3 * 3600))).toBeCloseTo(2, 3);

      // A renewal asks again: the next identity lives as long as asked, or 1 h when the bot asks nothing.
      const bot = await joined(['apps']);
      const renewAsking = async (ttl: { ttl_seconds?: number }) => {
        const request = {
          public_key: publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey),
          ...ttl,
        };
        const caller = await bot.fixture.service.authenticator.authenticate(
          bot.signer.request(ROUTES.botRenew, request),
          { requestId: 'r' },
        );
        return bot.fixture.service.renew(caller, request, { requestId: 'r' });
      };
      expect(lifetime(await renewAsking({ ttl_seconds: 5 * 3600 }))).toBeCloseTo(5, 3);
    });

    it('gives an identity 1 h when the bot asks for no lifetime (agents before it could ask)', async () => {
      const { signer } = await joined(['apps']);
      const identity = signer.identity;
      expect((Date.parse(identity.expires_at) - Date.parse(identity.issued_at)) / 3_600_000).toBeCloseTo(
        1,
        3,
      );
    });

    it('renews nothing when the instance was locked between authentication and renewal', async () => {
      const { fixture, signer } = await joined(['ops']);
      const request = { public_key: publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey) };
      const meta = { requestId: 'r' };
      const renewing = await fixture.service.authenticator.authenticate(
        signer.request(ROUTES.botRenew, request),
        meta,
      );
      // Meanwhile a stale copy of the certificate was presented and locked the instance.
      await fixture.service.context.instances.update('robot', signer.identity.instance_id, (record) => ({
        ...record,
        locked: { at: new Date(fixture.clock.now()).toISOString(), reason: 'a stale certificate was used' },
      }));
      await expect(fixture.service.renew(renewing, request, meta)).rejects.toMatchObject({
        code: 'instance_locked',
      });
      const { record } = await fixture.service.context.instances.require(
        'robot',
        signer.identity.instance_id,
      );
      expect(record.generation).toBe(1);
      expect(record.locked?.reason).toBe('a stale certificate was used');
    });

    it('locks the instance when two renewals with one certificate race, and audits the lock', async () => {
      const { fixture, signer } = await joined(['ops']);
      const request = () => ({
        public_key: publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey),
      });
      const meta = { requestId: 'r' };
      const first = request();
      const second = request();
      const callers = [
        await fixture.service.authenticator.authenticate(signer.request(ROUTES.botRenew, first), meta),
        await fixture.service.authenticator.authenticate(signer.request(ROUTES.botRenew, second), meta),
      ] as const;
      await fixture.service.renew(callers[0], first, meta);
      await expect(fixture.service.renew(callers[1], second, meta)).rejects.toMatchObject({
        code: 'generation_mismatch',
      });
      const { record } = await fixture.service.context.instances.require(
        'robot',
        signer.identity.instance_id,
      );
      expect(record.locked?.reason).toBe('two renewals raced with one certificate');
      const locks = await fixture.service.admin.events({ type: 'bot.lock' });
      expect(locks).toHaveLength(1);
      expect(locks[0]).toMatchObject({ bot: 'robot', code: 'generation_mismatch' });
    });

    it('refuses every call of a locked instance, even with the newest certificate', async () => {
      const { fixture, signer } = await joined(['ops']);
      const renewed = await renewIdentity(fixture, signer);
      await expect(renewIdentity(fixture, signer)).rejects.toMatchObject({ code: 'generation_mismatch' });
      // The renewed certificate is current, but its instance is now locked: the copy is not trusted either.
      await expect(
        fixture.service.authenticator.authenticate(renewed.request(ROUTES.botHeartbeat, {}), {
          requestId: 't',
        }),
      ).rejects.toMatchObject({ code: 'instance_locked' });
    });
  });

  describe('output certificates', () => {
    it('issues an identity output with the roles logins, traits expanded, and the TTL capped by max_session_ttl', async () => {
      const { fixture, signer } = await joined(['ops'], ['deploy']);
      const output = await issueOutput(fixture, signer, { output: 'identity', ttl_seconds: 24 * 3600 });
      expect(output.ssh?.logins).toEqual(['deploy', 'root']);
      const ssh = parseSshCertificate(output.ssh_cert as string);
      expect(ssh.principals).toEqual(['deploy', 'root']);
      expect(Date.parse(output.expires_at) - fixture.clock.now()).toBe(2 * 3_600_000);
      const tls = new X509Certificate(output.tls_cert as string);
      expect(tls.subject).toContain('CN=bot-robot');
      expect(tls.subjectAltName).toBeUndefined();
    });

    it('caps the bot identity and every output by the bot’s own max_session_ttl too', async () => {
      const fixture = await createFixture();
      const token = await fixture.addBot('robot', ['ops']);
      const bot = { kind: 'bot', version: 'v1', metadata: { name: 'robot' } };
      await fixture.service.admin.putResources(
        [{ ...bot, spec: { roles: ['ops'], max_session_ttl: '30m' } }],
        true,
        'test',
      );
      const { identity, signer } = await fixture.join(token);
      expect(Date.parse(identity.expires_at) - fixture.clock.now()).toBe(30 * 60_000);
      const output = await issueOutput(fixture, signer, { output: 'identity', ttl_seconds: 24 * 3600 });
      expect(Date.parse(output.expires_at) - fixture.clock.now()).toBe(30 * 60_000);
      // Longer than the role's 2 h cap: the shorter one holds.
      await fixture.service.admin.putResources(
        [{ ...bot, spec: { roles: ['ops'], max_session_ttl: '48h' } }],
        true,
        'test',
      );
      const longer = await issueOutput(fixture, signer, { output: 'identity', ttl_seconds: 24 * 3600 });
      expect(Date.parse(longer.expires_at) - fixture.clock.now()).toBe(2 * 3_600_000);
    });

    it('lets an output narrow to a subset of the roles, and never more', async () => {
      const { fixture, signer } = await joined(['ops', 'apps']);
      const narrowed = await issueOutput(fixture, signer, { output: 'identity', roles: ['apps'] });
      expect(narrowed.roles).toEqual(['apps']);
      expect(narrowed.ssh?.logins).toEqual([]);
      await expect(
        issueOutput(fixture, signer, { output: 'identity', roles: ['kube'] }),
      ).rejects.toMatchObject({
        code: 'role_not_held',
        message: expect.stringContaining(
          'the bot does not hold the role "kube"; it holds "ops", "apps". Add the role with `midctl bots update robot --add-roles=kube` or remove it',
        ),
      });
      // A role whose name starts with one the bot holds is another role.
      await expect(
        issueOutput(fixture, signer, { output: 'identity', roles: ['ops-admin'] }),
      ).rejects.toMatchObject({ code: 'role_not_held' });
    });

    it('refuses to let an output certificate act as a bot identity', async () => {
      const { fixture, signer } = await joined(['ops']);
      const keys = generateKeyPair('balanced', 'subject');
      const output = await issueOutput(fixture, signer, {
        output: 'identity',
        public_key: publicKeyToPem(keys.publicKey),
      });
      // Properly signed with the output's own key: the certificate is genuine, but it is no bot identity.
      const outputSigner = makeSigner(
        { ...signer.identity, tls_cert: output.tls_cert as string },
        keys.privateKey,
        fixture.clock,
      );
      await expect(
        fixture.service.authenticator.authenticate(outputSigner.request(ROUTES.botCertificates, {}), {
          requestId: 't',
        }),
      ).rejects.toMatchObject({ code: 'not_a_bot_identity' });
    });

    it('issues an application certificate naming the app, only for apps the roles allow', async () => {
      const { fixture, signer } = await joined(['apps']);
      await fixture.service.admin.putResources(
        [
          {
            kind: 'app',
            version: 'v3',
            metadata: { name: 'grafana', labels: { team: 'payments' } },
            spec: { uri: 'http://127.0.0.1:3000' },
          },
          {
            kind: 'app',
            version: 'v3',
            metadata: { name: 'billing', labels: { team: 'finance' } },
            spec: { uri: 'http://127.0.0.1:3001' },
          },
        ],
        false,
        'test',
      );
      const output = await issueOutput(fixture, signer, { output: 'application', app_name: 'grafana' });
      expect(new X509Certificate(output.tls_cert as string).subjectAltName).toBe(
        'URI:mid://example.test/apps/grafana',
      );
      await expect(
        issueOutput(fixture, signer, { output: 'application', app_name: 'billing' }),
      ).rejects.toMatchObject({ code: 'app_not_allowed' });
      await expect(
        issueOutput(fixture, signer, { output: 'application', app_name: 'nope' }),
      ).rejects.toMatchObject({ code: 'app_not_found' });
      await expect(issueOutput(fixture, signer, { output: 'application' })).rejects.toMatchObject({
        code: 'missing_field',
      });
    });

    it('issues Kubernetes client certificates with the user as CN and groups as O', async () => {
      const { fixture, signer } = await joined(['kube']);
      const caPem = fixture.service.context.cas.tlsHost.certificatePem;
      await fixture.service.admin.putResources(
        [
          {
            kind: 'kube_cluster',
            version: 'v3',
            metadata: { name: 'k1', labels: { env: 'dev' } },
            spec: { api_server: 'https://127.0.0.1:6443', ca_cert: caPem },
          },
        ],
        false,
        'test',
      );
      const output = await issueOutput(fixture, signer, { output: 'kubernetes', kubernetes_cluster: 'k1' });
      const tls = new X509Certificate(output.tls_cert as string);
      expect(tls.subject.split('\n')).toEqual(expect.arrayContaining(['CN=alice', 'O=viewers']));
      expect(output.kubernetes).toMatchObject({
        api_server: 'https://127.0.0.1:6443',
        user: 'alice',
        groups: ['viewers'],
      });
    });

    it('takes Kubernetes users and groups only from the roles that allow the cluster', async () => {
      const fixture = await createFixture();
      const caPem = fixture.service.context.cas.tlsHost.certificatePem;
      const kubeRole = (name: string, env: string, user: string, group: string) => ({
        kind: 'role',
        version: 'v7',
        metadata: { name },
        spec: { allow: { kubernetes_labels: { env }, kubernetes_users: [user], kubernetes_groups: [group] } },
      });
      const cluster = (name: string, env: string) => ({
        kind: 'kube_cluster',
        version: 'v3',
        metadata: { name, labels: { env } },
        spec: { api_server: 'https://127.0.0.1:6443', ca_cert: caPem },
      });
      await fixture.service.admin.putResources(
        [
          kubeRole('kube-dev', 'dev', 'dev-user', 'devs'),
          kubeRole('kube-prod', 'prod', 'prod-admin', 'ops-admins'),
          cluster('dev', 'dev'),
          cluster('prod', 'prod'),
        ],
        false,
        'test',
      );
      const { signer } = await fixture.join(await fixture.addBot('both', ['kube-dev', 'kube-prod']));
      const dev = await issueOutput(fixture, signer, { output: 'kubernetes', kubernetes_cluster: 'dev' });
      expect(dev.kubernetes).toMatchObject({ user: 'dev-user', groups: ['devs'] });
      expect(new X509Certificate(dev.tls_cert as string).subject.split('\n').sort()).toEqual([
        'CN=dev-user',
        'O=devs',
      ]);
      const prod = await issueOutput(fixture, signer, { output: 'kubernetes', kubernetes_cluster: 'prod' });
      expect(prod.kubernetes).toMatchObject({ user: 'prod-admin', groups: ['ops-admins'] });
    });

    it('issues SSH host certificates only with the host_cert rule', async () => {
      const { fixture, signer } = await joined(['ops', 'hosts']);
      await addNode(fixture, 'node1', '10.0.0.5:22');
      const output = await issueOutput(fixture, signer, {
        output: 'ssh_host',
        principals: ['node1.example.test'],
      });
      const cert = parseSshCertificate(output.ssh_cert as string);
      expect(cert.type).toBe('host');
      expect(cert.principals).toEqual(['node1.example.test']);
      // A host the cluster does not know gets no host certificate, whatever the bot's rules allow.
      await expect(
        issueOutput(fixture, signer, { output: 'ssh_host', principals: ['github.com'] }),
      ).rejects.toMatchObject({
        code: 'unknown_host_principal',
        message: expect.stringContaining('"github.com"'),
      });
      // Nor does a name under the cluster's domain that is no node's.
      await expect(
        issueOutput(fixture, signer, { output: 'ssh_host', principals: ['node2.example.test'] }),
      ).rejects.toMatchObject({ code: 'unknown_host_principal' });
      // Named by its hostname or address, the node's certificate also carries hostname.<cluster>: the
      // name identity outputs' ssh_config checks it against (HostKeyAlias).
      const byAddress = await issueOutput(fixture, signer, {
        output: 'ssh_host',
        principals: ['10.0.0.5', 'node1'],
      });
      expect(parseSshCertificate(byAddress.ssh_cert as string).principals).toEqual([
        '10.0.0.5',
        'node1',
        'node1.example.test',
      ]);
      // An address two nodes share identifies neither: it adds no node's name.
      await addNode(fixture, 'db', '10.0.0.5:2222');
      const shared = await issueOutput(fixture, signer, { output: 'ssh_host', principals: ['10.0.0.5'] });
      expect(parseSshCertificate(shared.ssh_cert as string).principals).toEqual(['10.0.0.5']);
      // Narrowed by the output's roles: to those without the rule, told so, with the bot's roles.
      await expect(
        issueOutput(fixture, signer, { output: 'ssh_host', principals: ['node1'], roles: ['ops'] }),
      ).rejects.toMatchObject({
        code: 'host_cert_not_allowed',
        message: expect.stringContaining(
          "this output's roles (ops) hold none: add such a role to the output's roles: (the bot holds ops, hosts)",
        ),
      });
      const plain = await joined(['ops']);
      await expect(
        issueOutput(plain.fixture, plain.signer, { output: 'ssh_host', principals: ['x'] }),
      ).rejects.toMatchObject({
        code: 'host_cert_not_allowed',
        message: expect.stringContaining(
          "the bot's roles (ops) hold none: give the bot such a role (midctl bots update robot --add-roles=ROLE)",
        ),
      });
    });

    it('never issues past the CA expiry', async () => {
      const fixture = await createFixture();
      const caEnd = fixture.service.context.cas.tlsUser.notAfter.getTime();
      fixture.clock.set(caEnd - 10 * 60_000);
      const { signer } = await fixture.join(await fixture.addBot('robot', ['ops']));
      expect(Date.parse(signer.identity.expires_at)).toBe(caEnd);
      const output = await issueOutput(fixture, signer, { output: 'identity' });
      expect(Date.parse(new X509Certificate(output.tls_cert as string).validTo)).toBeLessThanOrEqual(caEnd);
      fixture.clock.set(caEnd + 1);
      expect(() => fixture.service.context.issuer.validity(3_600_000)).toThrow(/expired/);
    });

    it('records issuance with serials and roles in the audit log', async () => {
      const { fixture, signer } = await joined(['ops']);
      const output = await issueOutput(fixture, signer, { output: 'identity' });
      const [event] = await fixture.service.admin.events({ type: 'cert.issue' });
      expect(event).toMatchObject({
        outcome: 'success',
        bot: 'robot',
        output: 'identity',
        serials: [output.serial],
        roles: ['ops'],
      });
    });
  });
});

describe('bot instances as resources', () => {
  it('render in the bot_instance shape that the resource schema accepts', async () => {
    const { botInstanceSchema } = await import('../../lib/resources/bot-instance.js');
    const { toBotInstanceResource } = await import('../../lib/auth/bot-instance-store.js');
    const { fixture, signer } = await joined(['ops']);
    const renewed = await renewIdentity(fixture, signer);
    const caller = await fixture.service.authenticator.authenticate(
      renewed.request(ROUTES.botHeartbeat, {}),
      { requestId: 't' },
    );
    await fixture.service.heartbeat(caller, {
      hostname: 'ci-1',
      version: '0.1.0',
      uptime_seconds: 5,
      one_shot: true,
      outputs_written: 2,
    });
    const [record] = await fixture.service.context.instances.list('robot');
    expect(record?.latest_authentications.map((auth) => auth.join_method)).toEqual(['token', 'renewal']);
    // Each authentication keeps when its identity expires, for `midctl bots instances ls` to show.
    expect(record?.latest_authentications.map((auth) => auth.expires_at)).toEqual([
      signer.identity.expires_at,
      renewed.identity.expires_at,
    ]);
    const resource = toBotInstanceResource(record!);
    expect(botInstanceSchema.parse(resource)).toEqual(resource);
    expect(JSON.stringify(resource)).not.toContain(signer.identity.tls_cert.slice(30, 60));
  });
});

describe('trait templates', () => {
  it('drops trait values that are not valid logins instead of putting them into certificates', async () => {
    const fixture = await createFixture();
    await fixture.service.admin.putResources(
      [
        {
          kind: 'bot',
          version: 'v1',
          metadata: { name: 'tricky' },
          spec: { roles: ['ops'], traits: [{ name: 'logins', values: ['deploy'] }] },
        },
      ],
      false,
      'test',
    );
    const roleSet = new (await import('../../lib/auth/role-set.js')).RoleSet(
      [
        {
          kind: 'role',
          version: 'v7',
          metadata: { name: 'x' },
          spec: { allow: { logins: ['{{external.logins}}'] } },
        } as never,
      ],
      { logins: ['good', 'Bad Login', 'a,b', '-oProxyCommand=x'] },
    );
    expect(roleSet.logins()).toEqual(['good']);
  });
});
