import { afterEach, describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  bot,
  CI_ROLE_RULE,
  createIamFixture,
  headerOf,
  type IamFixture,
  IDENTITIES,
  iamToken,
  withHeader,
} from './iam-fixture.js';

let fixture: IamFixture;
afterEach(async () => {
  await fixture?.close();
});

describe('joining with the iam method', () => {
  it('issues a bot identity for an allowed role session and records a new instance with its ARN', async () => {
    fixture = await createIamFixture();
    const identity = await fixture.join(await fixture.sign());

    expect(identity).toMatchObject({
      bot_name: 'robot',
      cluster_name: 'example.test',
      generation: 1,
      renewable: false,
    });
    const [instance] = await fixture.service.context.instances.list('robot');
    expect(instance).toMatchObject({
      instance_id: identity.instance_id,
      join_method: 'iam',
      aws_arn: IDENTITIES.session1.arn,
    });
    expect(instance?.initial_authentication).toMatchObject({
      join_method: 'iam',
      join_token_name: 'ci-token',
      aws_arn: IDENTITIES.session1.arn,
      aws_account: ACCOUNT,
    });
    const event = await fixture.lastJoinEvent();
    expect(event).toMatchObject({
      outcome: 'success',
      join_method: 'iam',
      token_name: 'ci-token',
      bot: 'robot',
      instance: identity.instance_id,
      aws_arn: IDENTITIES.session1.arn,
      aws_account: ACCOUNT,
    });
    expect(fixture.emulator.requests).toHaveLength(1);
    expect(fixture.emulator.requests[0]?.response?.status).toBe(200);
  });

  it('keeps one instance per ARN: the same session joining again continues it and its history grows', async () => {
    fixture = await createIamFixture();
    const first = await fixture.join(await fixture.sign());
    fixture.clock.advance(20 * 60_000);
    const second = await fixture.join(await fixture.sign());
    fixture.clock.advance(20 * 60_000);
    const third = await fixture.join(await fixture.sign());

    expect(second.instance_id).toBe(first.instance_id);
    expect(third.instance_id).toBe(first.instance_id);
    expect(third.generation).toBe(3);
    const instances = await fixture.service.context.instances.list('robot');
    expect(instances).toHaveLength(1);
    expect(instances[0]?.latest_authentications.map((auth) => auth.generation)).toEqual([1, 2, 3]);
    expect(instances[0]?.current_serial).toBe(third.serial);
  });

  it('makes another session of the same role an instance of its own', async () => {
    fixture = await createIamFixture();
    const first = await fixture.join(await fixture.sign(IDENTITIES.session1));
    const other = await fixture.join(await fixture.sign(IDENTITIES.session2));

    expect(other.instance_id).not.toBe(first.instance_id);
    const arns = (await fixture.service.context.instances.list('robot'))
      .map((record) => record.aws_arn)
      .sort();
    expect(arns).toEqual([IDENTITIES.session1.arn, IDENTITIES.session2.arn]);
  });

  it('continues the instance named by a valid previous certificate of the same ARN', async () => {
    fixture = await createIamFixture();
    const first = await fixture.join(await fixture.sign());
    // Without the ARN index, only the certificate can say which instance this is.
    for (const item of await fixture.storage.list('iam_instances/')) await fixture.storage.delete(item.key);

    const again = await fixture.join(await fixture.sign(), { previous_certificate: first.tls_cert });

    expect(again.instance_id).toBe(first.instance_id);
    expect(again.generation).toBe(2);
  });

  it('does not continue the instance of a previous certificate that belongs to another ARN', async () => {
    fixture = await createIamFixture();
    const sessionOne = await fixture.join(await fixture.sign(IDENTITIES.session1));

    const sessionTwo = await fixture.join(await fixture.sign(IDENTITIES.session2), {
      previous_certificate: sessionOne.tls_cert,
    });

    expect(sessionTwo.instance_id).not.toBe(sessionOne.instance_id);
    expect(sessionTwo.generation).toBe(1);
  });

  it('does not continue the instance of an expired previous certificate', async () => {
    fixture = await createIamFixture();
    const first = await fixture.join(await fixture.sign());
    for (const item of await fixture.storage.list('iam_instances/')) await fixture.storage.delete(item.key);
    fixture.clock.advance(2 * 3_600_000);

    const later = await fixture.join(await fixture.sign(), { previous_certificate: first.tls_cert });

    expect(later.instance_id).not.toBe(first.instance_id);
  });

  it('sends STS a request it built itself: only the signed parts, never an extra header of the client', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    // An unsigned user-agent is the only extra header the checks let through; it is not forwarded.
    await fixture.join(withHeader(signed, 'user-agent', 'curl/8.0 (smuggled)'));

    // Where it goes: the allowlisted host, from the service's own checked parts, not the client's URL.
    expect(fixture.stsTargets).toEqual(['sts.us-east-1.amazonaws.com']);
    const received = fixture.emulator.requests[0];
    expect(received?.method).toBe('POST');
    expect(received?.url).toBe('/');
    expect(received?.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    const names = Object.keys(received?.headers ?? {})
      .filter((name) => name !== 'connection')
      .sort();
    expect(names).toEqual([
      'authorization',
      'content-length',
      'content-type',
      'host',
      'x-amz-content-sha256',
      'x-amz-date',
      'x-amz-security-token',
      'x-mid-challenge',
      'x-mid-cluster-name',
    ]);
    expect(received?.headers['host']).toBe('sts.us-east-1.amazonaws.com');
    expect(received?.headers['x-mid-challenge']).toBe(headerOf(signed, 'x-mid-challenge'));
    expect(received?.headers['authorization']).toMatch(
      /SignedHeaders=[^,]*x-mid-challenge;x-mid-cluster-name/,
    );
  });

  it('accepts an IAM user when the token allows the account', async () => {
    fixture = await createIamFixture({ allow: [{ aws_account: ACCOUNT }] });
    const identity = await fixture.join(await fixture.sign(IDENTITIES.user));
    expect(identity.bot_name).toBe('robot');
    expect((await fixture.lastJoinEvent())?.aws_arn).toBe(IDENTITIES.user.arn);
  });

  it('accepts the canonical spellings of an allowed host: upper case, one trailing dot, port 443', async () => {
    fixture = await createIamFixture();
    for (const url of [
      'https://STS.US-EAST-1.AMAZONAWS.COM/',
      'https://sts.us-east-1.amazonaws.com./',
      'https://sts.us-east-1.amazonaws.com:443/',
    ]) {
      const signed = await fixture.sign();
      await expect(fixture.join({ ...signed, url })).resolves.toMatchObject({ bot_name: 'robot' });
    }
    expect(fixture.emulator.requests.map((request) => request.headers['host'])).toEqual([
      'sts.us-east-1.amazonaws.com',
      'sts.us-east-1.amazonaws.com',
      'sts.us-east-1.amazonaws.com',
    ]);
  });

  it('accepts a request signed for the global endpoint with the us-east-1 scope', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ host: 'sts.amazonaws.com', region: 'us-east-1' });
    await expect(fixture.join(signed)).resolves.toMatchObject({ bot_name: 'robot' });
  });

  it('keeps the instances of two bots apart even for the same ARN', async () => {
    fixture = await createIamFixture();
    await fixture.service.admin.putResources(
      [
        bot('other-bot'),
        iamToken('other-token', 'other-bot', [{ aws_account: ACCOUNT, aws_arn: CI_ROLE_RULE }]),
      ],
      false,
      'test',
    );
    const robot = await fixture.join(await fixture.sign());
    const other = await fixture.join(await fixture.sign(), {
      token: 'other-token',
      previous_certificate: robot.tls_cert,
    });

    expect(other.bot_name).toBe('other-bot');
    expect(other.instance_id).not.toBe(robot.instance_id);
    expect(await fixture.service.context.instances.list('robot')).toHaveLength(1);
    expect(await fixture.service.context.instances.list('other-bot')).toHaveLength(1);
  });
});

describe('secrets in an iam join', () => {
  it('never writes the session token, the signature or the secret key into the audit log or an error', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    await fixture.join(signed);
    const refusals = await Promise.allSettled([
      fixture.join(signed),
      fixture.join(withHeader(signed, 'via', 'proxy')),
      fixture.join(await fixture.sign(IDENTITIES.otherRole)),
    ]);
    const signature = /Signature=([0-9a-f]{64})/.exec(headerOf(signed, 'authorization') ?? '')?.[1] as string;
    const events = JSON.stringify(await fixture.service.admin.events({ type: 'bot.join' }));
    const messages = refusals
      .map((result) => (result.status === 'rejected' ? String(result.reason?.message) : ''))
      .join('\n');
    for (const secret of [IDENTITIES.session1.sessionToken, IDENTITIES.session1.secretAccessKey, signature]) {
      expect(events).not.toContain(secret);
      expect(messages).not.toContain(secret);
    }
  });
});
