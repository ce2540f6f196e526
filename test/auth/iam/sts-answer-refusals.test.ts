import { afterEach, describe, expect, it } from 'vitest';
import { StsUnavailableError } from '../../../lib/auth/iam/iam-join-error.js';
import { signGetCallerIdentity } from '../../../lib/bot/iam/sign-get-caller-identity.js';
import { ManualClock } from '../../../lib/core/clock.js';
import { expectRefused } from './expect-refusal.js';
import {
  ACCOUNT,
  CLUSTER,
  createIamFixture,
  credentialsOf,
  type IamFixture,
  IDENTITIES,
  OTHER_ACCOUNT,
} from './iam-fixture.js';

let fixture: IamFixture;
afterEach(async () => {
  await fixture?.close();
});

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const ARN = IDENTITIES.session1.arn;
const USER_ID = IDENTITIES.session1.userId;

function answer(result: string, extra = ''): string {
  return `<GetCallerIdentityResponse xmlns="${NS}">\n  <GetCallerIdentityResult>\n${result}\n  </GetCallerIdentityResult>${extra}\n  <ResponseMetadata><RequestId>0f6e1b2c-0000-4000-8000-000000000000</RequestId></ResponseMetadata>\n</GetCallerIdentityResponse>\n`;
}

function fields(arn = ARN, account = ACCOUNT, userId = USER_ID): string {
  return `    <Arn>${arn}</Arn>\n    <UserId>${userId}</UserId>\n    <Account>${account}</Account>`;
}

async function refusedAnswer(body: string, contentType = 'text/xml', awsArn?: string, message?: string) {
  fixture.emulator.setFault({ kind: 'raw', status: 200, contentType, body });
  await expectRefused(fixture, fixture.join(await fixture.sign()), 'sts_response_invalid', {
    stsRequests: 1,
    ...(awsArn === undefined ? {} : { awsArn }),
    ...(message === undefined ? {} : { message }),
  });
}

describe("STS's answer to an iam join", () => {
  it('refuses when STS denies the signature (403) and names STS’s error code', async () => {
    fixture = await createIamFixture();
    const forged = { ...IDENTITIES.session1, secretAccessKey: 'not-the-secret-of-session-one-xxxxxx' };
    await expectRefused(fixture, fixture.join(await fixture.sign(forged)), 'sts_denied', {
      stsRequests: 1,
      message: 'SignatureDoesNotMatch',
    });
  });

  it('refuses an unknown access key (403 InvalidClientTokenId)', async () => {
    fixture = await createIamFixture();
    const unknown = { ...IDENTITIES.session1, accessKeyId: 'ASIAUNKNOWNKEY000001' };
    await expectRefused(fixture, fixture.join(await fixture.sign(unknown)), 'sts_denied', {
      stsRequests: 1,
      message: 'InvalidClientTokenId',
    });
  });

  it('refuses a request signed by an agent whose clock is 16 minutes slow (STS allows 15), without retrying', async () => {
    fixture = await createIamFixture();
    const signed = await signGetCallerIdentity({
      region: 'us-east-1',
      challenge: await fixture.challenge(),
      clusterName: CLUSTER,
      credentials: credentialsOf(IDENTITIES.session1),
      clock: new ManualClock(fixture.clock.now() - 16 * 60_000),
    });
    await expectRefused(fixture, fixture.join(signed), 'sts_denied', { stsRequests: 1, message: 'clock' });
  });

  it.each([500, 502, 503])(
    'reports STS failing with %i as unavailable (503, retry) after one attempt',
    async (status) => {
      fixture = await createIamFixture();
      fixture.emulator.setFault({ kind: 'status', status });
      const error = await expectRefused(fixture, fixture.join(await fixture.sign()), 'sts_unavailable', {
        stsRequests: 1,
        message: 'retry',
      });
      expect(error).toBeInstanceOf(StsUnavailableError);
      expect(error.httpStatus).toBe(503);
    },
  );

  it('reports STS throttling as unavailable', async () => {
    fixture = await createIamFixture();
    fixture.emulator.setFault({ kind: 'status', status: 400 });
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'sts_unavailable', {
      stsRequests: 1,
      message: 'Throttling',
    });
  });

  it('gives up on a slow STS at the deadline', async () => {
    fixture = await createIamFixture({ iam: { stsTimeoutMs: 200 } });
    fixture.emulator.setFault({ kind: 'delay', ms: 5_000 });
    const started = performance.now();
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'sts_unavailable', {
      stsRequests: 1,
      message: 'within 200 ms',
    });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('gives up on a slow STS after 5 s when no deadline is set, well before a Lambda or a client would', async () => {
    fixture = await createIamFixture();
    fixture.emulator.setFault({ kind: 'delay', ms: 8_000 });
    const started = performance.now();
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'sts_unavailable', {
      stsRequests: 1,
      message: 'within 5000 ms',
    });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(4_900);
    expect(waited).toBeLessThan(7_000);
  });

  it.each([301, 302, 307, 308] as const)('does not follow a redirect (%i)', async (status) => {
    fixture = await createIamFixture();
    fixture.emulator.setFault({ kind: 'redirect', status, location: `${fixture.emulator.url}/`, times: 1 });
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'sts_response_invalid', {
      stsRequests: 1,
      message: 'redirect',
    });
  });

  it.each(['text/html; charset=utf-8', 'application/json', 'application/xml', 'text/xmlx'])(
    'refuses a success with the content type %s',
    async (contentType) => {
      fixture = await createIamFixture();
      fixture.emulator.setFault({ kind: 'wrong-content-type', contentType });
      await expectRefused(fixture, fixture.join(await fixture.sign()), 'sts_response_invalid', {
        stsRequests: 1,
        message: 'content type',
      });
    },
  );

  it('refuses a valid identity answered with a status other than 200', async () => {
    fixture = await createIamFixture();
    fixture.emulator.setFault({ kind: 'raw', status: 203, contentType: 'text/xml', body: answer(fields()) });
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'sts_response_invalid', {
      stsRequests: 1,
    });
  });

  it('refuses a success with no content type', async () => {
    fixture = await createIamFixture();
    fixture.emulator.setFault({ kind: 'wrong-content-type', contentType: null });
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'sts_response_invalid', {
      stsRequests: 1,
      message: 'content type',
    });
  });

  it('refuses an answer over 64 KiB', async () => {
    fixture = await createIamFixture();
    fixture.emulator.setFault({ kind: 'oversized', bytes: 64 * 1024 + 1 });
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'sts_response_invalid', {
      stsRequests: 1,
      message: 'larger than 65536 bytes',
    });
  });

  it('refuses an ARN whose account differs from Account, and audits the ARN', async () => {
    fixture = await createIamFixture();
    await refusedAnswer(answer(fields(ARN, OTHER_ACCOUNT)), 'text/xml', ARN, 'differs from Account');
  });

  it('refuses an ARN in another partition than the endpoint', async () => {
    fixture = await createIamFixture({ allow: [{ aws_account: ACCOUNT }] });
    await expectRefused(
      fixture,
      fixture.join(await fixture.sign(IDENTITIES.chinaArn)),
      'sts_response_invalid',
      {
        stsRequests: 1,
        awsArn: IDENTITIES.chinaArn.arn,
        message: 'partition aws-cn',
      },
    );
  });

  it('refuses an aws-partition identity answered through a China endpoint', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ host: 'sts.cn-north-1.amazonaws.com.cn', region: 'cn-north-1' });
    await expectRefused(fixture, fixture.join(signed), 'sts_response_invalid', {
      stsRequests: 1,
      awsArn: ARN,
      message: 'partition',
    });
  });

  it('refuses two identities in one answer', async () => {
    fixture = await createIamFixture();
    const other = IDENTITIES.otherRole;
    await refusedAnswer(
      answer(
        fields(),
        `\n  <GetCallerIdentityResult>\n${fields(other.arn, ACCOUNT, other.userId)}\n  </GetCallerIdentityResult>`,
      ),
      'text/xml',
      undefined,
      '2 <GetCallerIdentityResult>',
    );
  });

  it.each([
    ['two ARNs', `${fields()}\n    <Arn>${IDENTITIES.otherRole.arn}</Arn>`, '2 <Arn>'],
    ['no ARN', `    <UserId>${USER_ID}</UserId>\n    <Account>${ACCOUNT}</Account>`, '0 <Arn>'],
    ['an unexpected field', `${fields()}\n    <Role>admin</Role>`, 'unexpected <Role>'],
    ['an ARN with markup inside', fields(`${ARN}<b>x</b>`), 'mixes text and elements'],
    [
      'an ARN element with children',
      fields().replace(`<Arn>${ARN}</Arn>`, '<Arn><b>x</b></Arn>'),
      'not a simple value',
    ],
    ['a malformed ARN', fields('arn:aws:sts::12345:assumed-role/ci-role/s'), 'not an IAM or STS ARN'],
  ])('refuses an answer with %s', async (_what, result, message) => {
    fixture = await createIamFixture();
    await refusedAnswer(answer(result), 'text/xml', undefined, message);
  });

  it('refuses a UserId that does not belong to the ARN’s session, and audits the ARN', async () => {
    fixture = await createIamFixture();
    await refusedAnswer(
      answer(fields(ARN, ACCOUNT, 'AROACIROLE777777777777:other')),
      'text/xml',
      ARN,
      'UserId',
    );
  });

  it.each([
    ['a DOCTYPE', `<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "${ARN}">]>\n${answer(fields('&a;'))}`],
    ['an external entity', `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${answer(fields())}`],
    ['an undeclared entity', answer(fields('&a;'))],
    ['a comment', answer(`<!-- ${ARN} -->${fields()}`)],
    ['CDATA', answer(fields(`<![CDATA[${ARN}]]>`))],
    ['a processing instruction', answer(`<?evil?>${fields()}`)],
    ['another root element', `<AssumeRoleResponse xmlns="${NS}"/>`],
    ['another namespace', answer(fields()).replace(NS, 'https://evil.example/')],
    ['trailing content', `${answer(fields())}<x/>`],
    ['an unclosed element', answer(fields()).replace('</GetCallerIdentityResponse>', '')],
    ['invalid UTF-8', Buffer.from([0xff, 0xfe]).toString('latin1')],
  ])('refuses an answer with %s', async (_what, body) => {
    fixture = await createIamFixture();
    await refusedAnswer(body);
  });

  it('accepts a well-formed answer with an XML declaration and entities in the session name', async () => {
    fixture = await createIamFixture();
    fixture.emulator.setFault({
      kind: 'raw',
      status: 200,
      contentType: 'text/xml; charset=UTF-8',
      body: `<?xml version="1.0" encoding="UTF-8"?>\n${answer(
        fields(ARN.replace('session-1', 'session&#45;1'), ACCOUNT, USER_ID.replace('-', '&#x2d;')),
      )}`,
    });
    await expect(fixture.join(await fixture.sign())).resolves.toMatchObject({ bot_name: 'robot' });
  });

  it.each([
    ['a federated user', IDENTITIES.federated],
    ['the account root', IDENTITIES.root],
  ])('refuses %s as a principal type, and audits its ARN', async (_what, identity) => {
    fixture = await createIamFixture({ allow: [{ aws_account: ACCOUNT }] });
    await expectRefused(fixture, fixture.join(await fixture.sign(identity)), 'principal_type_not_allowed', {
      stsRequests: 1,
      awsArn: identity.arn,
    });
  });

  it('refuses an IAM role ARN (not a session) as a principal type', async () => {
    fixture = await createIamFixture({ allow: [{ aws_account: ACCOUNT }] });
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/ci-role`;
    fixture.emulator.setFault({
      kind: 'raw',
      status: 200,
      contentType: 'text/xml',
      body: answer(fields(roleArn, ACCOUNT, 'AROACIROLE7777777777')),
    });
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'principal_type_not_allowed', {
      stsRequests: 1,
      awsArn: roleArn,
    });
  });
});
