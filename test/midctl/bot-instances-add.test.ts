import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAuthServer, startLocalAuthServer } from '../../lib/auth/local/local-auth-server.js';
import { silentLogger } from '../../lib/core/logger.js';
import { publicKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { inProcessMidctl } from './in-process-midctl.js';

const IAM_TOKEN = (bot: string) =>
  `kind: token\nversion: v2\nmetadata:\n  name: ${bot}-iam\nspec:\n  roles: [Bot]\n  join_method: iam\n  bot_name: ${bot}\n  allow: [{aws_account: "123456789012"}]\n`;

describe('midctl bots instances add', () => {
  let root: string;
  let server: LocalAuthServer;
  let midctl: ReturnType<typeof inProcessMidctl>;
  let dataDir: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mid-instances-add-'));
    dataDir = join(root, 'data');
    server = await startLocalAuthServer({ dataDir, port: 0, logger: silentLogger, iamJoin: false });
    midctl = inProcessMidctl(dataDir);
    await midctl(['create', '-f', '-'], 'kind: role\nversion: v7\nmetadata: {name: access}\nspec: {}\n');
    await midctl(['bots', 'add', 'robot', '--roles=access']);
    await midctl(['bots', 'add', 'other', '--roles=access']);
  });

  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  const joinWith = (token: string) =>
    server.service.join.join(
      {
        join_method: 'token',
        token,
        public_key: publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey),
      },
      { requestId: 'test' },
    );

  it('gives a new token of the bot with the midbot command, and the token joins one more instance', async () => {
    const status = JSON.parse(await midctl(['status', '--format', 'json']));
    const text = await midctl(['bots', 'instances', 'add', 'robot', '--ttl', '10m']);
    const token = /^The bot token: ([0-9a-f]{32})$/m.exec(text)?.[1] ?? '';
    expect(text).toContain('This token expires in 10m.');
    expect(text).toContain(
      `   --token=${token} \\\n   --join-method=token \\\n   --ca-pin=${status.ca_pin} \\`,
    );
    expect(text).toContain(`  token: "${token}"`);

    const first = await joinWith(token);
    const again = JSON.parse(await midctl(['bots', 'instances', 'add', 'robot', '--format', 'json']));
    expect(again).toMatchObject({ bot: 'robot', join_method: 'token', ca_pin: status.ca_pin });
    const second = await joinWith(again.token);
    const instances = JSON.parse(
      await midctl(['bots', 'instances', 'ls', 'robot', '--format', 'json']),
    ) as Array<{
      metadata: { name: string };
    }>;
    expect(instances.map((instance) => instance.metadata.name)).toEqual(
      expect.arrayContaining([first.instance_id, second.instance_id]),
    );
  });

  it("with --token, gives the bot's existing iam token and makes no new one", async () => {
    await midctl(['create', '-f', '-'], IAM_TOKEN('robot'));
    const count = async () =>
      (JSON.parse(await midctl(['tokens', 'ls', '--format', 'json'])) as unknown[]).length;
    const before = await count();
    const text = await midctl(['bots', 'instances', 'add', 'robot', '--token', 'robot-iam']);
    expect(text).toContain('This is the iam token "robot-iam"; it is not a secret.');
    expect(text).toContain('   --join-method=iam \\');
    expect(text).toContain('  token: "robot-iam"');
    expect(await count()).toBe(before);
  });

  it('refuses a bot that does not exist, a token of another bot and an unknown token, making no token', async () => {
    const tokensBefore = await midctl(['tokens', 'ls', '--format', 'json']);
    await expect(midctl(['bots', 'instances', 'add', 'ghost'])).rejects.toMatchObject({
      code: 'bot_not_found',
      message: expect.stringContaining('bot "ghost" does not exist'),
    });
    await expect(midctl(['bots', 'instances', 'add', 'robo'])).rejects.toMatchObject({
      code: 'bot_not_found',
      message: 'bot "robo" does not exist (did you mean "robot"?); list them with `midctl get bots`',
    });
    // A token's name is a secret: one mistyped by a character is never answered with the real one.
    const [token] = JSON.parse(await midctl(['tokens', 'ls', '--format', 'json'])) as Array<{
      metadata: { name: string };
    }>;
    const name = token?.metadata.name ?? '';
    const typo = `${name.slice(0, -1)}${name.endsWith('0') ? '1' : '0'}`;
    const refused = midctl(['bots', 'add', 'newcomer', '--roles=access', '--token', typo]);
    await expect(refused).rejects.toMatchObject({ code: 'token_not_found' });
    await expect(refused).rejects.not.toMatchObject({ message: expect.stringContaining(name) });
    await midctl(['create', '-f', '-'], IAM_TOKEN('other'));
    await expect(midctl(['bots', 'instances', 'add', 'robot', '--token', 'other-iam'])).rejects.toMatchObject(
      {
        code: 'token_for_another_bot',
        message:
          '--token: that token is for bot "other", not "robot"; use a token of bot "robot" (`midctl tokens ls`), or leave out --token for a new one',
      },
    );
    const secretLooking = 'f'.repeat(32);
    const unknown = midctl(['bots', 'instances', 'add', 'robot', '--token', secretLooking]);
    await expect(unknown).rejects.toMatchObject({ code: 'token_not_found' });
    await expect(unknown).rejects.not.toMatchObject({ message: expect.stringContaining(secretLooking) });
    const tokensAfter = JSON.parse(await midctl(['tokens', 'ls', '--format', 'json'])) as Array<{
      metadata: { name: string };
    }>;
    expect(tokensAfter.map((token) => token.metadata.name).sort()).toEqual(
      [
        ...JSON.parse(tokensBefore).map((token: { metadata: { name: string } }) => token.metadata.name),
        'other-iam',
      ].sort(),
    );
  });

  it('refuses --ttl beside --token, and an expired --token, rather than print a command that cannot join', async () => {
    await expect(
      midctl(['bots', 'instances', 'add', 'robot', '--token', 'robot-iam', '--ttl', '2h']),
    ).rejects.toMatchObject({
      code: 'invalid_flag',
      message: expect.stringContaining('--ttl and --token were both given'),
    });
    await expect(
      midctl(['bots', 'add', 'third', '--roles=access', '--token', 'third-iam', '--ttl', '2h']),
    ).rejects.toMatchObject({ code: 'invalid_flag' });
    expect(
      JSON.parse(await midctl(['get', 'bots', '--format', 'json'])).map(
        (bot: { metadata: { name: string } }) => bot.metadata.name,
      ),
    ).not.toContain('third');

    const expiring = JSON.parse(
      await midctl(['tokens', 'add', '--type=bot', '--bot-name=robot', '--ttl', '10m', '--format', 'json']),
    ) as { token: string; expires: string };
    const anHourOn = inProcessMidctl(dataDir, () => Date.now() + 3_600_000);
    await expect(
      anHourOn(['bots', 'instances', 'add', 'robot', '--token', expiring.token]),
    ).rejects.toMatchObject({
      code: 'token_expired',
      message: `--token: that token of bot "robot" expired at ${expiring.expires}; leave out --token for a new one (\`midctl tokens rm\` removes the expired one)`,
    });
  });
});
