import { afterEach, describe, expect, it } from 'vitest';
import { tokenFingerprint } from '../../../lib/auth/audit-log.js';
import { expectRefused } from './expect-refusal.js';
import {
  ACCOUNT,
  bot,
  CI_ROLE_RULE,
  createIamFixture,
  type IamFixture,
  IDENTITIES,
  iamToken,
  OTHER_ACCOUNT,
} from './iam-fixture.js';

let fixture: IamFixture;
afterEach(async () => {
  await fixture?.close();
});

describe('authorising an iam join', () => {
  it('checks a pinned role unique id, so a re-created role of the same name does not inherit access', async () => {
    const ciRoleId = 'AROACIROLE7777777777';
    fixture = await createIamFixture({
      allow: [{ aws_account: ACCOUNT, aws_arn: CI_ROLE_RULE, aws_role_id: ciRoleId }],
    });
    await expect(fixture.join(await fixture.sign(IDENTITIES.session1))).resolves.toBeDefined();
    await fixture.close();
    fixture = await createIamFixture({
      allow: [{ aws_account: ACCOUNT, aws_arn: CI_ROLE_RULE, aws_role_id: 'AROAOLDROLEDELETED01' }],
    });
    await expectRefused(
      fixture,
      fixture.join(await fixture.sign(IDENTITIES.session1)),
      'aws_role_id_mismatch',
      {
        stsRequests: 1,
        awsArn: IDENTITIES.session1.arn,
      },
    );
  });

  it('refuses an IAM user under a rule with a pinned role unique id: a user has no role id to match', async () => {
    fixture = await createIamFixture({
      allow: [{ aws_account: ACCOUNT, aws_arn: IDENTITIES.user.arn, aws_role_id: 'AROACIROLE7777777777' }],
    });
    await expectRefused(fixture, fixture.join(await fixture.sign(IDENTITIES.user)), 'aws_role_id_mismatch', {
      stsRequests: 1,
      awsArn: IDENTITIES.user.arn,
    });
  });

  it('refuses an identity in an account the token does not allow, and audits its ARN', async () => {
    fixture = await createIamFixture();
    await expectRefused(
      fixture,
      fixture.join(await fixture.sign(IDENTITIES.otherAccount)),
      'aws_account_not_allowed',
      {
        stsRequests: 1,
        awsArn: IDENTITIES.otherAccount.arn,
        message: OTHER_ACCOUNT,
      },
    );
  });

  it('refuses a role the aws_arn rule does not name, and audits its ARN', async () => {
    fixture = await createIamFixture();
    await expectRefused(
      fixture,
      fixture.join(await fixture.sign(IDENTITIES.otherRole)),
      'aws_arn_not_allowed',
      {
        stsRequests: 1,
        awsArn: IDENTITIES.otherRole.arn,
      },
    );
  });

  it('does not let a rule for an account match an ARN of another account', async () => {
    fixture = await createIamFixture({
      allow: [
        { aws_account: ACCOUNT, aws_arn: CI_ROLE_RULE },
        { aws_account: OTHER_ACCOUNT, aws_arn: `arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/deploy-role/*` },
      ],
    });
    // ci-role in the other account: its account is allowed, but only for deploy-role.
    await expectRefused(
      fixture,
      fixture.join(await fixture.sign(IDENTITIES.otherAccount)),
      'aws_arn_not_allowed',
      {
        stsRequests: 1,
        awsArn: IDENTITIES.otherAccount.arn,
      },
    );
  });

  it('hints at the assumed-role form when a rule names the IAM role ARN', async () => {
    fixture = await createIamFixture({
      allow: [{ aws_account: ACCOUNT, aws_arn: `arn:aws:iam::${ACCOUNT}:role/ci-role` }],
    });
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'aws_arn_not_allowed', {
      stsRequests: 1,
      awsArn: IDENTITIES.session1.arn,
      message: 'assumed-role/NAME/*',
    });
  });

  it('joins the bot the token names, never the bot of another token', async () => {
    fixture = await createIamFixture();
    await fixture.service.admin.putResources(
      [
        bot('deployer', ['apps']),
        iamToken('deploy-token', 'deployer', [{ aws_account: ACCOUNT, aws_arn: CI_ROLE_RULE }]),
      ],
      false,
      'test',
    );
    const deployer = await fixture.join(await fixture.sign(), { token: 'deploy-token' });
    expect(deployer).toMatchObject({ bot_name: 'deployer', roles: ['apps'] });
    // The robot's token, used with the same proof, gives the robot's identity and roles, nothing more.
    const robot = await fixture.join(await fixture.sign());
    expect(robot).toMatchObject({ bot_name: 'robot', roles: ['ops'] });
  });

  it('refuses a token whose bot no longer exists, before any STS call', async () => {
    fixture = await createIamFixture();
    await fixture.service.admin.putResources(
      [iamToken('orphan-token', 'ghost', [{ aws_account: ACCOUNT }])],
      false,
      'test',
    );
    await fixture.settleState();
    await expectRefused(
      fixture,
      fixture.join(await fixture.sign(), { token: 'orphan-token' }),
      'bot_not_found',
      {
        stsRequests: 0,
      },
    );
  });

  it('refuses a bot whose role is gone before any STS call; the challenge is spent, a new one works', async () => {
    fixture = await createIamFixture();
    const robot = await fixture.service.context.resources.get('bot', 'robot');
    if (robot === undefined) throw new Error('the fixture has no robot');
    await fixture.service.context.resources.put({
      ...robot.resource,
      spec: { ...robot.resource.spec, roles: ['ops', 'gone'] },
    });
    const signed = await fixture.sign();
    await expect(fixture.join(signed)).rejects.toMatchObject({ code: 'role_not_found' });
    expect(fixture.emulator.requests).toHaveLength(0);
    expect(await fixture.lastJoinEvent()).toMatchObject({ outcome: 'failure', code: 'role_not_found' });
    // Read alongside the roles, the challenge was spent: the agent asks for a fresh one on every join.
    await fixture.service.context.resources.put(robot.resource);
    await expect(fixture.join(signed)).rejects.toMatchObject({ code: 'challenge_replayed' });
    await expect(fixture.join(await fixture.sign())).resolves.toMatchObject({ bot_name: 'robot' });
  });

  it('refuses an expired token before any STS call and leaves the challenge unspent', async () => {
    fixture = await createIamFixture();
    const expires = new Date(fixture.clock.now() + 60_000).toISOString();
    await fixture.service.admin.putResources(
      [iamToken('short-token', 'robot', [{ aws_account: ACCOUNT, aws_arn: CI_ROLE_RULE }], expires)],
      false,
      'test',
    );
    fixture.clock.advance(60_000);
    await fixture.settleState();
    const signed = await fixture.sign();
    await expectRefused(fixture, fixture.join(signed, { token: 'short-token' }), 'token_expired', {
      stsRequests: 0,
    });
    await expect(fixture.join(signed)).resolves.toMatchObject({ bot_name: 'robot' });
  });

  it('refuses a deleted token before any STS call', async () => {
    fixture = await createIamFixture();
    await fixture.service.admin.deleteResource('token', 'ci-token', undefined, 'test');
    await fixture.settleState();
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'token_not_found', { stsRequests: 0 });
  });

  it('refuses a token of the token method presented for an iam join, and keeps its secret out of the audit log', async () => {
    fixture = await createIamFixture();
    const { token } = await fixture.service.admin.addBot({ name: 'tokenbot', roles: ['ops'] }, 'test');
    await fixture.settleState();
    await expectRefused(
      fixture,
      fixture.join(await fixture.sign(), { token: token.name }),
      'join_method_mismatch',
      {
        stsRequests: 0,
      },
    );
    const event = await fixture.lastJoinEvent();
    expect(JSON.stringify(event)).not.toContain(token.name);
    expect(event).toMatchObject({ token_fingerprint: tokenFingerprint(token.name) });
    expect(event?.token_name).toBeUndefined();
  });

  it('audits an unknown token name by fingerprint only: it may be a mistyped secret', async () => {
    fixture = await createIamFixture();
    await expectRefused(
      fixture,
      fixture.join(await fixture.sign(), { token: 'no-such-token' }),
      'token_not_found',
      {
        stsRequests: 0,
      },
    );
    const event = await fixture.lastJoinEvent();
    expect(JSON.stringify(event)).not.toContain('no-such-token');
    expect(event).toMatchObject({ token_fingerprint: tokenFingerprint('no-such-token') });
  });

  it('keeps an iam token reusable: it is not consumed by a join', async () => {
    fixture = await createIamFixture();
    await fixture.join(await fixture.sign(IDENTITIES.session1));
    await fixture.join(await fixture.sign(IDENTITIES.session2));
    expect(await fixture.service.context.resources.get('token', 'ci-token')).toBeDefined();
  });

  it('refuses to continue a locked instance, and audits the ARN', async () => {
    fixture = await createIamFixture();
    const first = await fixture.join(await fixture.sign());
    await fixture.service.context.instances.update('robot', first.instance_id, (record) => ({
      ...record,
      locked: { at: new Date(fixture.clock.now()).toISOString(), reason: 'locked by a test' },
    }));
    await fixture.settleState();
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'instance_locked', {
      stsRequests: 2,
      awsArn: IDENTITIES.session1.arn,
      message: 'locked by a test',
    });
    // Another session of the role is another instance and is not affected.
    await expect(fixture.join(await fixture.sign(IDENTITIES.session2))).resolves.toMatchObject({
      bot_name: 'robot',
    });
  });

  it('refuses the next join of a session whose instance an operator locked, then admits it once unlocked', async () => {
    fixture = await createIamFixture();
    const first = await fixture.join(await fixture.sign());
    await fixture.service.locks.lock(
      'robot',
      first.instance_id,
      { message: 'role session under review' },
      'arn:aws:iam::1:user/ops',
    );
    await fixture.settleState();
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'instance_locked_by_operator', {
      stsRequests: 2,
      awsArn: IDENTITIES.session1.arn,
      message: `was locked by an operator at ${new Date(fixture.clock.now()).toISOString()}: role session under review. An operator lifts it with \`midctl unlock bot_instance/robot/${first.instance_id}\``,
    });
    await fixture.service.locks.unlock('robot', first.instance_id, 'arn:aws:iam::1:user/ops');
    await fixture.settleState();
    await expect(fixture.join(await fixture.sign())).resolves.toMatchObject({
      instance_id: first.instance_id,
    });
  });

  it('refuses every join for a locked bot once STS has said whose it is (audited with the ARN), then admits the same instance once unlocked', async () => {
    fixture = await createIamFixture();
    const first = await fixture.join(await fixture.sign());
    await fixture.service.botLocks.lock(
      'robot',
      { message: 'account under review' },
      'arn:aws:iam::1:user/ops',
    );
    await fixture.settleState();
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'bot_locked', {
      stsRequests: 2,
      awsArn: IDENTITIES.session1.arn,
      message: `bot "robot" was locked by an operator at ${new Date(fixture.clock.now()).toISOString()}: account under review. An operator lifts it with \`midctl unlock bot/robot\``,
    });
    await fixture.service.botLocks.unlock('robot', 'arn:aws:iam::1:user/ops');
    await fixture.settleState();
    await expect(fixture.join(await fixture.sign())).resolves.toMatchObject({
      instance_id: first.instance_id,
    });
  });

  it('refuses every join of a bot holding a locked role once STS has said whose it is (audited with the ARN), then admits it once unlocked', async () => {
    fixture = await createIamFixture();
    const first = await fixture.join(await fixture.sign());
    await fixture.service.roleLocks.lock('ops', { message: 'role under review' }, 'arn:aws:iam::1:user/ops');
    await fixture.settleState();
    await expectRefused(fixture, fixture.join(await fixture.sign()), 'role_locked', {
      stsRequests: 2,
      awsArn: IDENTITIES.session1.arn,
      message: `bot "robot" holds role "ops", which an operator locked at ${new Date(fixture.clock.now()).toISOString()}: role under review. No certificate is issued to a bot holding a locked role. An operator lifts it with \`midctl unlock role/ops\``,
    });
    await fixture.service.roleLocks.unlock('ops', 'arn:aws:iam::1:user/ops');
    await fixture.settleState();
    await expect(fixture.join(await fixture.sign())).resolves.toMatchObject({
      instance_id: first.instance_id,
    });
  });

  it('starts a fresh instance when the remembered one was removed', async () => {
    fixture = await createIamFixture();
    const first = await fixture.join(await fixture.sign());
    await fixture.service.admin.deleteResource('bot_instance', 'robot', first.instance_id, 'test');
    const second = await fixture.join(await fixture.sign());
    expect(second.instance_id).not.toBe(first.instance_id);
    expect(second.generation).toBe(1);
    const third = await fixture.join(await fixture.sign());
    expect(third.instance_id).toBe(second.instance_id);
  });
});
