import { afterEach, describe, expect, it } from 'vitest';
import type { SignedStsRequest } from '../../../lib/api/join.js';
import { expectRefused } from './expect-refusal.js';
import {
  BODY,
  createIamFixture,
  HOST,
  headerOf,
  type IamFixture,
  replacingHeader,
  withHeader,
  withoutHeader,
} from './iam-fixture.js';

let fixture: IamFixture;
afterEach(async () => {
  await fixture?.close();
});

/** The host in both the URL and the signed host header, as an attacker would send it. */
async function signedForHost(host: string, url = `https://${host}/`): Promise<SignedStsRequest> {
  return fixture.signFor({ host, url });
}

describe('the STS host of an iam join', () => {
  it.each([
    ['a host that is not STS', 'example.com', undefined],
    ['another AWS service', 'iam.amazonaws.com', undefined],
    ['the link-local metadata address', '169.254.169.254', 'link-local'],
    ['the IPv6 metadata address', '[fd00:ec2::254]', 'link-local'],
    ['an IPv4 literal', '52.94.236.248', 'IP address'],
    ['an IPv6 literal', '[::1]', 'IP address'],
    ['a loopback name', 'localhost', undefined],
    ['a look-alike suffix', 'sts.us-east-1.amazonaws.com.evil.com', undefined],
    ['a look-alike prefix', 'evilsts.us-east-1.amazonaws.com', undefined],
    ['an unknown region', 'sts.us-fake-1.amazonaws.com', undefined],
    ['a China region under the global suffix', 'sts.cn-north-1.amazonaws.com', undefined],
    ['a global region under the China suffix', 'sts.us-east-1.amazonaws.com.cn', undefined],
    ['a FIPS host where STS has none', 'sts-fips.eu-west-1.amazonaws.com', undefined],
    ['a dual-stack host', 'sts.us-east-1.api.aws', undefined],
    ['two trailing dots', 'sts.us-east-1.amazonaws.com..', undefined],
  ])('refuses %s before any network I/O', async (_what, host, message) => {
    fixture = await createIamFixture();
    await expectRefused(fixture, fixture.join(await signedForHost(host)), 'sts_host_not_allowed', {
      stsRequests: 0,
      ...(message === undefined ? {} : { message }),
    });
  });

  it.each([
    ['a port other than 443', `https://${HOST}:8443/`, 'port'],
    ['an empty port', `https://${HOST}:/`, 'port'],
    ['user information', `https://user:pw@${HOST}/`, 'user information'],
    ['user information hiding the real host', `https://${HOST}@evil.example/`, 'user information'],
  ])('refuses a URL with %s', async (_what, url, message) => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ url });
    await expectRefused(fixture, fixture.join(signed), 'sts_host_not_allowed', { stsRequests: 0, message });
  });

  it('refuses a non-FIPS host when the service requires FIPS, and accepts a FIPS host', async () => {
    fixture = await createIamFixture({ iam: { requireFips: true } });
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'sts_host_not_allowed', {
      stsRequests: 0,
      message: 'FIPS',
    });
    const fips = await fixture.signFor({ host: 'sts-fips.us-east-1.amazonaws.com' });
    await expect(fixture.join(fips)).resolves.toMatchObject({ bot_name: 'robot' });
    expect(fixture.emulator.requests[0]?.headers['host']).toBe('sts-fips.us-east-1.amazonaws.com');
  });
});

describe('the signed STS request of an iam join', () => {
  it.each([
    ['another action', 'Action=AssumeRole&Version=2011-06-15'],
    ['another version', 'Action=GetCallerIdentity&Version=2010-01-01'],
    ['an extra parameter', `${BODY}&RoleArn=arn:aws:iam::123456789012:role/admin`],
    ['a duplicate parameter', `Action=GetCallerIdentity&Action=GetCallerIdentity&Version=2011-06-15`],
    ['reordered parameters', 'Version=2011-06-15&Action=GetCallerIdentity'],
    ['an empty body', ''],
  ])('refuses a body with %s, even when it is signed', async (_what, body) => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ body });
    await expectRefused(fixture, fixture.join(signed), 'sts_request_malformed', {
      stsRequests: 0,
      message: 'body',
    });
  });

  it.each([
    ['a query string', `https://${HOST}/?Action=GetCallerIdentity&Version=2011-06-15`, 'query'],
    ['another path', `https://${HOST}/other`, 'path'],
    ['a double slash path', `https://${HOST}//`, 'path'],
    ['a dot segment', `https://${HOST}/./`, 'path'],
    ['no path', `https://${HOST}`, 'path'],
    ['a fragment', `https://${HOST}/#x`, 'path'],
    ['a backslash', `https://${HOST}\\@evil.example/`, 'path'],
    ['plain http', `http://${HOST}/`, 'https'],
    ['another scheme', `file:///etc/passwd`, 'https'],
    ['a scheme-relative URL', `//${HOST}/`, 'https'],
  ])('refuses a URL with %s', async (_what, url, message) => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ url });
    await expectRefused(fixture, fixture.join(signed), 'sts_request_malformed', { stsRequests: 0, message });
  });

  it.each(['GET', 'PUT', 'post', 'DELETE'])('refuses the method %s', async (method) => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ method });
    await expectRefused(fixture, fixture.join(signed), 'sts_request_malformed', {
      stsRequests: 0,
      message: 'method',
    });
  });

  it('refuses a presigned URL (credentials in X-Amz-* query parameters)', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    const presigned = withoutHeader(
      {
        ...signed,
        url: `https://${HOST}/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIA%2F20261121%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Signature=${'0'.repeat(64)}`,
      },
      'authorization',
    );
    await expectRefused(fixture, fixture.join(presigned), 'sts_request_malformed', {
      stsRequests: 0,
      message: 'presigned',
    });
  });

  it.each([
    ['SigV2', 'AWS AKIAEXAMPLE:c2lnbmF0dXJl'],
    [
      'SigV4a',
      `AWS4-ECDSA-P256-SHA256 Credential=ASIAEXAMPLEEXAMPLE/20261121/sts/aws4_request, SignedHeaders=host, Signature=${'a'.repeat(64)}`,
    ],
    ['a bearer token', 'Bearer abc'],
    ['a lower-case algorithm', `aws4-hmac-sha256 Credential=x`],
  ])('refuses a non-SigV4 Authorization scheme (%s)', async (_what, authorization) => {
    fixture = await createIamFixture();
    const signed = replacingHeader(await fixture.sign(), 'authorization', authorization);
    await expectRefused(fixture, fixture.join(signed), 'sts_request_malformed', {
      stsRequests: 0,
      message: 'SigV4',
    });
  });

  it('refuses an Authorization header with a repeated or unknown parameter', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    const authorization = headerOf(signed, 'authorization') as string;
    for (const tampered of [`${authorization}, Signature=${'b'.repeat(64)}`, `${authorization}, Extra=1`]) {
      await expectRefused(
        fixture,
        fixture.join(replacingHeader(signed, 'authorization', tampered)),
        'sts_request_malformed',
        { stsRequests: 0 },
      );
    }
  });

  it('refuses a credential scoped to another service', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ service: 'iam' });
    await expectRefused(fixture, fixture.join(signed), 'sts_request_malformed', {
      stsRequests: 0,
      message: 'service "iam"',
    });
  });

  it('refuses a credential scoped to a region other than the host', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ region: 'us-west-2' });
    await expectRefused(fixture, fixture.join(signed), 'sts_request_malformed', {
      stsRequests: 0,
      message: 'region "us-west-2"',
    });
  });

  it('refuses the global host signed for a region other than us-east-1', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ host: 'sts.amazonaws.com', region: 'eu-west-1' });
    await expectRefused(fixture, fixture.join(signed), 'sts_request_malformed', {
      stsRequests: 0,
      message: 'region',
    });
  });

  it.each([
    ['connection', 'close'],
    ['keep-alive', 'timeout=5'],
    ['transfer-encoding', 'chunked'],
    ['te', 'trailers'],
    ['upgrade', 'h2c'],
    ['expect', '100-continue'],
    ['x-forwarded-for', '10.0.0.1'],
    ['x-forwarded-host', 'evil.example'],
    ['X-Forwarded-Proto', 'http'],
    ['forwarded', 'for=10.0.0.1;host=evil.example'],
    ['via', '1.1 proxy'],
    ['proxy-authorization', 'Basic eDp5'],
  ])('refuses the hop-by-hop or forwarding header %s', async (name, value) => {
    fixture = await createIamFixture();
    const signed = withHeader(await fixture.sign(), name, value);
    await expectRefused(fixture, fixture.join(signed), 'sts_request_malformed', {
      stsRequests: 0,
      message: 'hop-by-hop or forwarding',
    });
  });

  it.each([
    ['x-http-method-override', 'GET'],
    ['x-amz-target', 'AWSSecurityTokenServiceV20110615.AssumeRole'],
    ['accept', 'application/json'],
    ['cookie', 'a=b'],
  ])('refuses a header that is not on the allowlist (%s)', async (name, value) => {
    fixture = await createIamFixture();
    const signed = withHeader(await fixture.sign(), name, value);
    await expectRefused(fixture, fixture.join(signed), 'sts_request_malformed', {
      stsRequests: 0,
      message: 'not allowed',
    });
  });

  it.each([
    ['the challenge', 'x-mid-challenge'],
    ['the host, in another case', 'Host'],
    ['the date', 'x-amz-date'],
    ['the session token', 'x-amz-security-token'],
    ['the Authorization header', 'authorization'],
  ])('refuses a duplicate header: %s', async (_what, name) => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    const duplicate = withHeader(signed, name, headerOf(signed, name.toLowerCase()) ?? 'x');
    await expectRefused(fixture, fixture.join(duplicate), 'sts_request_malformed', {
      stsRequests: 0,
      message: 'more than once',
    });
  });

  it('refuses a host header that differs from the URL host', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    await expectRefused(
      fixture,
      fixture.join(replacingHeader(signed, 'host', 'sts.us-west-2.amazonaws.com')),
      'sts_request_malformed',
      { stsRequests: 0, message: 'host header' },
    );
    await expectRefused(fixture, fixture.join(withoutHeader(signed, 'host')), 'sts_request_malformed', {
      stsRequests: 0,
      message: 'host header is missing',
    });
  });

  it('refuses header values with line breaks or non-ASCII characters', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    for (const value of ['a\r\nx-forwarded-for: 10.0.0.1', 'caf\u00e9', 'a\u0000b']) {
      await expectRefused(
        fixture,
        fixture.join(replacingHeader(signed, 'x-mid-cluster-name', value)),
        'sts_request_malformed',
        { stsRequests: 0, message: 'control or non-ASCII' },
      );
      await expectRefused(
        fixture,
        fixture.join(withHeader(signed, 'user-agent', value)),
        'sts_request_malformed',
        {
          stsRequests: 0,
          message: 'control or non-ASCII',
        },
      );
    }
  });

  it.each(['host', 'x-amz-date'])('refuses a request whose signature does not cover %s', async (name) => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ unsignable: [name] });
    expect(headerOf(signed, 'authorization')).not.toMatch(new RegExp(`SignedHeaders=[^,]*\\b${name};`));
    await expectRefused(fixture, fixture.join(signed), 'sts_request_malformed', {
      stsRequests: 0,
      message: `"${name}" header must be covered`,
    });
  });

  it('refuses a request whose signature does not cover the session token', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ unsignable: ['x-amz-security-token'] });
    await expectRefused(fixture, fixture.join(signed), 'sts_request_malformed', {
      stsRequests: 0,
      message: 'x-amz-security-token',
    });
  });

  it('refuses SignedHeaders that name a header the request does not carry', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    await expectRefused(
      fixture,
      fixture.join(withoutHeader(signed, 'content-type')),
      'sts_request_malformed',
      {
        stsRequests: 0,
      },
    );
    await expectRefused(
      fixture,
      fixture.join(withoutHeader(signed, 'x-amz-security-token')),
      'sts_request_malformed',
      {
        stsRequests: 0,
        message: 'SignedHeaders names "x-amz-security-token"',
      },
    );
  });

  it('refuses a body that does not match the declared payload hash or length', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    await expectRefused(
      fixture,
      fixture.join(replacingHeader(signed, 'x-amz-content-sha256', '0'.repeat(64))),
      'sts_request_malformed',
      { stsRequests: 0, message: 'x-amz-content-sha256' },
    );
    await expectRefused(
      fixture,
      fixture.join(withHeader(signed, 'content-length', '999')),
      'sts_request_malformed',
      {
        stsRequests: 0,
        message: 'content-length',
      },
    );
  });

  it('refuses an iam join without a signed request', async () => {
    fixture = await createIamFixture();
    await expectRefused(fixture, fixture.join(undefined), 'sts_request_malformed', {
      stsRequests: 0,
      message: '"iam"',
    });
  });
});
