import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BotIdentityResponse } from '../../lib/api/bot-identity.js';
import { type VerifiedBotCertificate, verifyBotCertificate } from '../../lib/auth/bot-certificate.js';
import { botIdentityUri } from '../../lib/auth/bot-identity-name.js';
import type { TlsCa } from '../../lib/auth/certificate-authorities.js';
import { AuthenticationError } from '../../lib/core/errors.js';
import { type Random, secureRandom } from '../../lib/core/random.js';
import { parseSshCertificate } from '../../lib/pki/ssh-certificate.js';
import { createFixture, type Fixture, GRAFANA_APP, issueOutput } from './auth-fixture.js';

/** The same CA as a new object: nothing is remembered for it, so every certificate is parsed. */
function freshCaObject(ca: TlsCa): TlsCa {
  return { ...ca, certificate: new X509Certificate(ca.certificatePem) };
}

function plain(certificate: VerifiedBotCertificate) {
  return {
    ...certificate,
    publicKey: certificate.publicKey.export({ format: 'jwk' }),
  };
}

async function joinedBot(fixture: Fixture): Promise<BotIdentityResponse> {
  const token = await fixture.addBot('robot', ['ops']);
  return (await fixture.join(token)).identity;
}

describe('verifyBotCertificate', () => {
  it('knows a bot certificate this service issued exactly as parsing it finds it', async () => {
    const fixture = await createFixture();
    const identity = await joinedBot(fixture);
    const ca = fixture.service.context.cas.tlsUser;

    const remembered = verifyBotCertificate(identity.tls_cert, ca, fixture.clock);
    const parsed = verifyBotCertificate(identity.tls_cert, freshCaObject(ca), fixture.clock);

    expect(plain(remembered)).toEqual(plain(parsed));
    expect(parsed.identity).toEqual({
      clusterName: 'example.test',
      botName: 'robot',
      instanceId: identity.instance_id,
      generation: identity.generation,
    });
    expect(parsed.serialHex).toBe(new X509Certificate(identity.tls_cert).serialNumber.toLowerCase());
    expect(parsed.notAfter.toISOString()).toBe(identity.expires_at);
    expect(parsed.roles).toEqual(['ops']);
  });

  it('reads a serial that starts with a zero byte the same way on both paths', async () => {
    // Every 16-byte draw (serials, instance ids) starts with one zero byte, then a byte below 0x80
    // that is not zero (at random, one draw in 256 would start with two zero bytes).
    const zeroFirst: Random = {
      bytes: (length) => {
        const bytes = secureRandom.bytes(length);
        if (length === 16) {
          bytes[0] = 0;
          bytes[1] = 0x43;
        }
        return bytes;
      },
    };
    const fixture = await createFixture(undefined, undefined, zeroFirst);
    const identity = await joinedBot(fixture);
    const ca = fixture.service.context.cas.tlsUser;

    const remembered = verifyBotCertificate(identity.tls_cert, ca, fixture.clock);
    const parsed = verifyBotCertificate(identity.tls_cert, freshCaObject(ca), fixture.clock);

    // The serial the service reports is the certificate's own, without the zero byte.
    expect(identity.serial).toBe(
      new X509Certificate(identity.tls_cert).serialNumber.toLowerCase().replace(/^00/, ''),
    );
    expect(identity.serial.startsWith('43')).toBe(true);
    expect(remembered.serialHex).toBe(identity.serial);
    expect(parsed.serialHex).toBe(remembered.serialHex);
  });

  it('still refuses a remembered certificate once it has expired, and before it is valid', async () => {
    const fixture = await createFixture();
    const identity = await joinedBot(fixture);
    const ca = fixture.service.context.cas.tlsUser;
    const expiresAt = Date.parse(identity.expires_at);

    fixture.clock.set(expiresAt);
    for (const tlsCa of [ca, freshCaObject(ca)]) {
      expect(() => verifyBotCertificate(identity.tls_cert, tlsCa, fixture.clock)).toThrow(
        expect.objectContaining({ code: 'certificate_expired' }),
      );
    }
    fixture.clock.set(Date.parse('2020-01-01T00:00:00Z'));
    expect(() => verifyBotCertificate(identity.tls_cert, ca, fixture.clock)).toThrow(
      expect.objectContaining({
        code: 'certificate_expired',
        message: expect.stringContaining(identity.expires_at),
      }),
    );
  });

  it("refuses another cluster's bot certificate and this cluster's output certificates", async () => {
    const fixture = await createFixture();
    const other = await createFixture();
    const identity = await joinedBot(fixture);
    const foreign = await joinedBot(other);
    const ca = fixture.service.context.cas.tlsUser;
    await fixture.service.admin.putResources([GRAFANA_APP], false, 'test');
    const { signer } = await fixture.join(await fixture.addBot('apps-bot', ['apps']));
    const output = await issueOutput(fixture, signer, {
      output: 'application',
      app_name: GRAFANA_APP.metadata.name,
    });

    expect(verifyBotCertificate(identity.tls_cert, ca, fixture.clock).identity.botName).toBe('robot');
    const refusal = (text: string) => {
      try {
        verifyBotCertificate(text, ca, fixture.clock);
      } catch (error) {
        expect(error).toBeInstanceOf(AuthenticationError);
        return (error as AuthenticationError).code;
      }
      return 'accepted';
    };
    expect(refusal(foreign.tls_cert)).toBe('untrusted_certificate');
    expect(refusal(output.tls_cert as string)).toBe('not_a_bot_identity');
    expect(refusal('not a certificate')).toBe('bot_auth_malformed');
  });

  it('refuses a certificate of this CA that names two bot identities', async () => {
    const fixture = await createFixture();
    const identity = await joinedBot(fixture);
    const { cas, issuer } = fixture.service.context;
    const own = {
      clusterName: 'example.test',
      botName: 'robot',
      instanceId: identity.instance_id,
      generation: identity.generation,
    };
    const twoNames = issuer.issueClientCertificate({
      publicKey: new X509Certificate(identity.tls_cert).publicKey,
      subject: { commonName: 'bot-robot' },
      uris: [botIdentityUri(own), botIdentityUri({ ...own, botName: 'admin' })],
      validity: issuer.validity(600_000),
    });

    expect(() => verifyBotCertificate(twoNames.pem, freshCaObject(cas.tlsUser), fixture.clock)).toThrow(
      expect.objectContaining({ code: 'not_a_bot_identity' }),
    );
  });
});

describe('expires_at', () => {
  it('is exactly the notAfter of the certificates it comes with, also when issued between two seconds', async () => {
    const fixture = await createFixture();
    fixture.clock.advance(1_234);
    const token = await fixture.addBot('robot', ['apps', 'ops']);
    const { identity, signer } = await fixture.join(token);
    const notAfter = (pem: string) => new Date(new X509Certificate(pem).validTo).toISOString();
    expect(identity.expires_at).toBe(notAfter(identity.tls_cert));
    expect(identity.expires_at).toBe(parseSshCertificate(identity.ssh_cert).validBefore.toISOString());

    await fixture.service.admin.putResources([GRAFANA_APP], false, 'test');
    const output = await issueOutput(fixture, signer, { output: 'application', app_name: 'grafana' });
    expect(output.expires_at).toBe(notAfter(output.tls_cert ?? ''));
  });
});
