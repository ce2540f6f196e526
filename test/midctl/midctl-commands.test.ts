import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAuthServer, startLocalAuthServer } from '../../lib/auth/local/local-auth-server.js';
import { localServerFiles } from '../../lib/auth/local/local-server-files.js';
import { silentLogger } from '../../lib/core/logger.js';
import { publicKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { inProcessMidctl } from './in-process-midctl.js';

const ROLE = (name: string, logins: string[] = []) =>
  `kind: role\nversion: v7\nmetadata:\n  name: ${name}\nspec:\n  allow:\n    logins: [${logins.join(', ')}]\n`;

describe('midctl against a local auth service', () => {
  let root: string;
  let server: LocalAuthServer;
  let midctl: ReturnType<typeof inProcessMidctl>;
  let localDataDir: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mid-midctl-'));
    localDataDir = join(root, 'data');
    server = await startLocalAuthServer({
      dataDir: localDataDir,
      port: 0,
      logger: silentLogger,
      iamJoin: false,
    });
    midctl = inProcessMidctl(localDataDir);
    await midctl(['create', '-f', '-'], ROLE('access', ['root']));
  });

  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  const json = async (args: readonly string[]) => JSON.parse(await midctl([...args, '--format', 'json']));

  describe('--format json', () => {
    it('prints every list as an array, also of exactly one item', async () => {
      await midctl(['bots', 'add', 'solo', '--roles=access']);
      const roles = await json(['get', 'roles']);
      expect(roles).toEqual([expect.objectContaining({ kind: 'role', metadata: { name: 'access' } })]);
      expect(await json(['bots', 'ls'])).toEqual([expect.objectContaining({ kind: 'bot' })]);
      expect(await json(['get', 'bots'])).toHaveLength(1);
      expect(await json(['tokens', 'ls'])).toEqual([expect.objectContaining({ kind: 'token' })]);

      const [token] = (await json(['tokens', 'ls'])) as Array<{ metadata: { name: string } }>;
      const identity = await server.service.join.join(
        {
          join_method: 'token',
          token: token?.metadata.name ?? '',
          public_key: publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey),
        },
        { requestId: 'test' },
      );
      const instances = await json(['bots', 'instances', 'ls', 'solo']);
      expect(instances).toEqual([expect.objectContaining({ kind: 'bot_instance' })]);
      expect(await json(['get', 'bot_instance/solo'])).toHaveLength(1);
      expect(await json(['bots', 'instances', 'ls'])).toHaveLength(1);

      // A reference to one resource by its full name prints that resource itself.
      expect(await json(['get', 'role/access'])).toMatchObject({
        kind: 'role',
        metadata: { name: 'access' },
      });
      const id = identity.instance_id;
      expect(await json(['get', `bot_instance/solo/${id}`])).toMatchObject({ metadata: { name: id } });
      expect(await json(['bots', 'instances', 'show', `solo/${id}`])).toMatchObject({
        metadata: { name: id },
      });
      await midctl(['bots', 'rm', 'solo']);
      expect(await json(['bots', 'ls'])).toEqual([]);
    });

    it('says a binary file is not text, without quoting its bytes', async () => {
      const file = join(root, 'binary.yaml');
      writeFileSync(file, Buffer.from([0x6b, 0x69, 0x6e, 0x64, 0xff, 0xfe, 0x9c, 0x80]));
      await expect(midctl(['create', '-f', file])).rejects.toMatchObject({
        message: `-f ${file}: this is not a text file (it holds bytes that are not UTF-8 text); pass a YAML file`,
      });
    });

    it('says -f names a folder, not that an operation is illegal', async () => {
      await expect(midctl(['create', '-f', root])).rejects.toMatchObject({
        message: `-f ${root}: that is a folder; pass a YAML file, or - to read standard input`,
      });
    });

    it('refuses a device, a FIFO or an oversized file before reading it whole', async () => {
      const fifo = join(root, 'resources.fifo');
      execFileSync('mkfifo', [fifo]);
      const big = join(root, 'big.yaml');
      writeFileSync(big, `# ${'x'.repeat(1024 * 1024)}\n${ROLE('big')}`);
      const notRegular =
        'that is not a regular file (a device, a FIFO or a socket); pass a YAML file, or - to read standard input (midctl create -f - < FILE)';
      await expect(midctl(['create', '-f', '/dev/zero'])).rejects.toMatchObject({
        message: `-f /dev/zero: ${notRegular}`,
      });
      await expect(midctl(['create', '-f', fifo])).rejects.toMatchObject({
        message: `-f ${fifo}: ${notRegular}`,
      });
      await expect(midctl(['create', '-f', big])).rejects.toMatchObject({
        code: 'invalid_yaml',
        message: `-f ${big}: is over the 1 MiB limit for a YAML file; split it into smaller files`,
      });
    });

    it('checks the file before asking for a service: a bad one is refused with none running', async () => {
      const nowhere = inProcessMidctl(join(root, 'no-service'));
      await expect(nowhere(['create', '-f', '-'], 'kind: role\n')).rejects.toMatchObject({
        message: expect.stringContaining('(stdin): role: version (line 1): got nothing'),
      });
      await expect(nowhere(['create', '-f', '-'], ROLE('fine'))).rejects.toMatchObject({
        message: expect.stringContaining('no auth server address'),
      });
    });

    it('answers an instance id cut short, as the events table shows it, with the whole id', async () => {
      await midctl(['bots', 'add', 'short', '--roles=access']);
      const [token] = (await json(['tokens', 'ls'])) as Array<{ metadata: { name: string } }>;
      const { instance_id: id } = await server.service.join.join(
        {
          join_method: 'token',
          token: token?.metadata.name ?? '',
          public_key: publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey),
        },
        { requestId: 'test' },
      );
      const cut = id.slice(0, 8);
      const likely = `bot instance short/${cut} does not exist (did you mean short/${id}?)`;

      for (const args of [
        ['bots', 'instances', 'show', `short/${cut}`],
        ['get', `bot_instance/short/${cut}`],
        ['lock', `bot_instance/short/${cut}`],
        ['rm', `bot_instance/short/${cut}`],
      ]) {
        await expect(midctl(args)).rejects.toMatchObject({ code: 'instance_not_found', message: likely });
      }
      await expect(midctl(['lock', 'bot_instance/short/zz'])).rejects.toMatchObject({
        message: 'bot instance short/zz does not exist',
      });
      expect(await json(['bots', 'instances', 'ls', 'short'])).toEqual([
        expect.objectContaining({ metadata: { name: id } }),
      ]);
      await midctl(['bots', 'rm', 'short']);
    });

    it('says a bot does not exist rather than listing no instances of it', async () => {
      await expect(midctl(['bots', 'instances', 'ls', 'ghost'])).rejects.toMatchObject({
        code: 'bot_not_found',
        message: expect.stringContaining('bot "ghost" does not exist'),
      });
      await midctl(['bots', 'add', 'quiet', '--roles=access']);
      expect(await json(['bots', 'instances', 'ls', 'quiet'])).toEqual([]);
      await midctl(['bots', 'rm', 'quiet']);
    });

    it('status includes the address of the auth service, as the text output does', async () => {
      const status = await json(['status']);
      expect(status).toMatchObject({ auth_server: server.url, cluster_name: server.clusterName });
      expect(await midctl(['status'])).toContain(`Auth server  ${server.url}`);
    });
  });

  it('refuses a file of more resources than one create applies, naming the count and the fix', async () => {
    const roles = Array.from({ length: 101 }, (_, index) => ROLE(`bulk-${index}`)).join('---\n');

    await expect(midctl(['create', '-f', '-'], roles)).rejects.toMatchObject({
      code: 'too_many_resources',
      message:
        '(stdin) holds 101 resources, more than the 100 one create applies (whole or not at all); split it into files of at most 100',
    });
    expect(await json(['get', 'roles'])).not.toContainEqual(
      expect.objectContaining({ metadata: { name: 'bulk-0' } }),
    );
  });

  describe('create -f with the same resource twice in the file', () => {
    const file = () => {
      const path = join(root, 'twice.yaml');
      writeFileSync(path, `${ROLE('twice')}---\n${ROLE('other')}---\n${ROLE('twice', ['x'])}`);
      return path;
    };

    it.each([[[]], [['--force']]])('is refused whole, naming both documents (%j)', async (extra) => {
      const path = file();
      await expect(midctl(['create', '-f', path, ...extra])).rejects.toMatchObject({
        code: 'duplicate_resource',
        message: `${path} document 3 (line 17): role "twice" is also document 1 (line 1); keep one of them`,
      });
      const names = ((await json(['get', 'roles'])) as Array<{ metadata: { name: string } }>).map(
        (role) => role.metadata.name,
      );
      expect(names).not.toContain('twice');
      expect(names).not.toContain('other');
    });

    it('is refused by the service too, before it writes anything', async () => {
      const role = { kind: 'role', version: 'v7', metadata: { name: 'twice' }, spec: {} };
      const other = { ...role, metadata: { name: 'other' } };
      await expect(
        server.service.admin.putResources([role, other, role], true, 'test'),
      ).rejects.toMatchObject({
        code: 'duplicate_resource',
        message: 'resources[2]: role "twice" is also resources[0]; keep one of them',
      });
      expect(await server.service.admin.getResources('roles')).toHaveLength(1);
    });

    it('does not echo the name of a secret token', async () => {
      const token = `kind: token\nversion: v2\nmetadata:\n  name: ${'s'.repeat(32)}\n  expires: 2099-01-01T00:00:00Z\nspec:\n  join_method: token\n  bot_name: robot\n  roles: [Bot]\n`;
      const refused = midctl(['create', '-f', '-'], `${token}---\n${token}`);
      await expect(refused).rejects.toThrow('token (name hidden) is also document 1');
      await expect(refused).rejects.not.toThrow('s'.repeat(32));
    });

    it('notes the role fields that nothing here enforces, after creating the role', async () => {
      const role = `kind: role
version: v7
metadata:
  name: pods-only
spec:
  allow:
    kubernetes_groups: [viewers]
    kubernetes_resources: [{kind: pod, namespace: '*', name: '*'}]
`;
      const printed = await midctl(['create', '-f', '-'], role);

      expect(printed).toMatch(
        /^role "pods-only" has been created\nNOTE: role "pods-only": allow\.kubernetes_resources is not enforced/,
      );
      expect(printed).toContain('RBAC');
    });

    it('prints neither creating nor removing a secret token with its name', async () => {
      const secret = 'c'.repeat(32);
      const expires = new Date(Date.now() + 3_600_000).toISOString();
      const token = `kind: token\nversion: v2\nmetadata:\n  name: ${secret}\n  expires: ${expires}\nspec:\n  join_method: token\n  bot_name: robot\n  roles: [Bot]\n`;
      expect(await midctl(['create', '-f', '-'], `${ROLE('printed')}---\n${token}`)).toBe(
        'role "printed" has been created\ntoken (name hidden) has been created\n',
      );
      expect(await midctl(['rm', `token/${secret}`])).toBe('token (name hidden) has been deleted\n');
    });
  });

  it("refuses to remove what does not exist as get refuses to show it: with the likely name, never a token's", async () => {
    await expect(midctl(['rm', 'role/acess'])).rejects.toMatchObject({
      code: 'role_not_found',
      message: 'role "acess" does not exist (did you mean "access"?); list them with `midctl get roles`',
    });
    const secret = 'd'.repeat(32);
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    await midctl(
      ['create', '-f', '-'],
      `kind: token\nversion: v2\nmetadata:\n  name: ${secret}\n  expires: ${expires}\nspec:\n  join_method: token\n  bot_name: robot\n  roles: [Bot]\n`,
    );
    const refused = midctl(['rm', `token/${secret.slice(0, -1)}e`]);
    await expect(refused).rejects.toMatchObject({ code: 'token_not_found' });
    await expect(refused).rejects.not.toMatchObject({ message: expect.stringContaining(secret) });
    await midctl(['rm', `token/${secret}`]);
  });

  describe('get prints YAML that create -f reads back', () => {
    it('exports a role that, edited, is created again (tctl get, edit, tctl create)', async () => {
      const file = join(root, 'access.yaml');
      writeFileSync(file, await midctl(['get', 'roles/access']));
      expect(await midctl(['create', '-f', file, '--force'])).toBe('role "access" has been updated\n');
      writeFileSync(file, readFileSync(file, 'utf8').replace('name: access', 'name: access-copy'));
      expect(await midctl(['create', '-f', file])).toBe('role "access-copy" has been created\n');
      expect(await json(['get', 'role/access-copy'])).toEqual({
        ...(await json(['get', 'role/access'])),
        metadata: { name: 'access-copy' },
      });
      await midctl(['rm', 'role/access-copy']);
    });

    it('exports every kind as a stream of documents that create -f --force takes back unchanged', async () => {
      const kubeCa = readFileSync(localServerFiles(join(root, 'data')).hostCa, 'utf8');
      await midctl(
        ['create', '-f', '-'],
        [
          'kind: app\nversion: v3\nmetadata:\n  name: grafana\n  labels: {env: dev}\nspec:\n  uri: http://127.0.0.1:3000\n',
          'kind: app\nversion: v3\nmetadata:\n  name: billing\nspec:\n  uri: http://127.0.0.1:3001\n',
          `kind: kube_cluster\nversion: v3\nmetadata:\n  name: k8s\nspec:\n  api_server: https://127.0.0.1:6443\n  ca_cert: ${JSON.stringify(kubeCa)}\n`,
          'kind: node\nsub_kind: openssh\nversion: v2\nmetadata:\n  name: node1\nspec:\n  addr: 127.0.0.1:22\n  hostname: node1\n',
          'kind: token\nversion: v2\nmetadata:\n  name: ci-iam\nspec:\n  roles: [Bot]\n  join_method: iam\n  bot_name: exported\n  allow: [{aws_account: "123456789012"}]\n',
        ].join('---\n'),
      );
      await midctl(['bots', 'add', 'exported', '--roles=access', '--logins=root,ubuntu', '--token=ci-iam']);
      for (const kind of ['roles', 'bots', 'tokens', 'apps', 'kube_clusters', 'nodes']) {
        const exported = await midctl(['get', kind]);
        expect(exported).toBe(await midctl(['get', kind, '--format', 'yaml']));
        const count = (await json(['get', kind])).length;
        expect(exported.split(/^---$/m)).toHaveLength(count);
        const replaced = await midctl(['create', '-f', '-', '--force'], exported);
        expect(replaced.match(/ has been updated$/gm)).toHaveLength(count);
        expect(await midctl(['get', kind])).toBe(exported);
      }
      await midctl(['bots', 'rm', 'exported']);
      for (const ref of ['app/grafana', 'app/billing', 'kube_cluster/k8s', 'node/node1'])
        await midctl(['rm', ref]);
    });

    it('still prints a table with --format text', async () => {
      expect(await midctl(['get', 'roles', '--format', 'text'])).toMatch(
        /^Role +Allowed to login as +Node Labels +App Labels +Kubernetes Labels\n[- ]+\naccess +root\n/,
      );
    });

    it('refuses a saved text table, saying how to export YAML instead', async () => {
      const file = join(root, 'access.txt');
      writeFileSync(file, await midctl(['get', 'roles/access', '--format', 'text']));
      await expect(midctl(['create', '-f', file])).rejects.toMatchObject({
        code: 'invalid_resource',
        message: expect.stringMatching(
          /^.*access\.txt: expected a resource.*; this looks like `midctl get` text output, not YAML: export with `midctl get roles --format yaml` \(or role\/NAME for one\), which create -f reads back$/,
        ),
      });
    });
  });

  describe('bots update --add-logins / --set-logins', () => {
    const logins = async (bot: string) =>
      (
        (await json(['get', `bot/${bot}`])) as {
          spec: { traits?: Array<{ name: string; values: string[] }> };
        }
      ).spec.traits;

    it('adds logins to the ones bots add --logins gave, and replaces them', async () => {
      await midctl(['bots', 'add', 'deployer', '--roles=access', '--logins=root']);
      const [created] = await json(['events', 'ls', '--type', 'bot.create', '--bot', 'deployer']);
      expect(created).toMatchObject({ roles: ['access'], logins: ['root'] });
      expect(await midctl(['bots', 'update', 'deployer', '--add-logins=ubuntu,root'])).toBe(
        'bot "deployer" now has roles: access; logins trait ({{internal.logins}}): root, ubuntu\n',
      );
      expect(await logins('deployer')).toEqual([{ name: 'logins', values: ['root', 'ubuntu'] }]);
      expect(await midctl(['bots', 'update', 'deployer', '--set-logins=deploy'])).toBe(
        'bot "deployer" now has roles: access; logins trait ({{internal.logins}}): deploy\n',
      );
      expect(await logins('deployer')).toEqual([{ name: 'logins', values: ['deploy'] }]);
      await midctl(['bots', 'rm', 'deployer']);
    });

    it('changes roles and logins in one call, and audits the result as bot.update', async () => {
      await midctl(['create', '-f', '-'], ROLE('ops'));
      await midctl(['bots', 'add', 'builder', '--roles=access']);
      expect(await midctl(['bots', 'update', 'builder', '--add-roles=ops', '--add-logins=ci'])).toBe(
        'bot "builder" now has roles: access, ops; logins trait ({{internal.logins}}): ci\n',
      );
      const [event] = await json([
        'events',
        'ls',
        '--type',
        'bot.update',
        '--bot',
        'builder',
        '--limit',
        '1',
      ]);
      expect(event).toMatchObject({
        type: 'bot.update',
        outcome: 'success',
        bot: 'builder',
        roles: ['access', 'ops'],
        logins: ['ci'],
      });
      await midctl(['bots', 'rm', 'builder']);
      await midctl(['rm', 'role/ops']);
    });

    it('keeps the bot as it was when the service refuses a login', async () => {
      await midctl(['bots', 'add', 'steady', '--roles=access', '--logins=root']);
      await expect(
        server.service.admin.updateBot('steady', { add_logins: ['root user'] }, 'test'),
      ).rejects.toMatchObject({
        code: 'invalid_resource',
        message: expect.stringContaining('got "root user", not a valid login for the logins trait'),
      });
      expect(await logins('steady')).toEqual([{ name: 'logins', values: ['root'] }]);
      await midctl(['bots', 'rm', 'steady']);
    });
  });

  describe('events ls --type', () => {
    it('takes a type or a category of types', async () => {
      const types = async (type: string) =>
        ((await json(['events', 'ls', '--type', type])) as Array<{ type: string }>).map(
          (event) => event.type,
        );
      expect(new Set(await types('resource.create'))).toEqual(new Set(['resource.create']));
      const resourceTypes = await types('resource');
      expect(resourceTypes).toContain('resource.create');
      expect(resourceTypes.every((type) => type.startsWith('resource.'))).toBe(true);
    });
  });

  it('marks an expired token in tokens ls and get tokens, which still list it', async () => {
    const { token } = await json(['bots', 'add', 'late', '--roles=access', '--ttl=1m']);
    const later = inProcessMidctl(localDataDir, () => Date.now() + 120_000);
    try {
      const row = (text: string) => text.split('\n').find((line) => line.startsWith(token)) ?? '';
      expect(row(await midctl(['tokens', 'ls']))).not.toContain('expired');
      expect(row(await later(['tokens', 'ls']))).toMatch(/ \d{4}-\d\d-\d\dT[\d:.]+Z \(expired\)$/);
      expect(row(await later(['get', 'tokens', '--format', 'text']))).toContain('(expired)');
    } finally {
      await midctl(['bots', 'rm', 'late']);
    }
  });

  describe('removing a bot or an instance whose agent is still running', () => {
    const joinWith = async (token: string) =>
      (
        await server.service.join.join(
          {
            join_method: 'token',
            token,
            public_key: publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey),
          },
          { requestId: 'test' },
        )
      ).instance_id;

    it('says the agent of an active instance stops at its next renewal, and that written certificates stay valid', async () => {
      const { token } = await json(['bots', 'add', 'busy', '--roles=access']);
      const first = await joinWith(token);
      expect(await midctl(['rm', `bot_instance/busy/${first}`])).toBe(
        `bot_instance "busy/${first}" has been deleted\n` +
          `NOTE: instance busy/${first} was active: its midbot is refused at its next renewal and stops until it joins again with a new token (\`midctl tokens add --type=bot --bot-name=busy\`). Certificates already written stay valid until they expire.\n`,
      );

      const { token: next } = await json(['tokens', 'add', '--type=bot', '--bot-name=busy']);
      const second = await joinWith(next);
      expect(await midctl(['bots', 'rm', 'busy'])).toBe(
        'bot "busy" has been deleted, with its instances and tokens\n' +
          `NOTE: bot "busy" had an active instance, ${second}: its midbot is refused at the next renewal or join and stops for good (a re-created bot needs a new join token). Certificates already written stay valid until they expire.\n`,
      );
    });

    it('adds nothing for a bot that has no instance', async () => {
      await midctl(['bots', 'add', 'idle', '--roles=access']);
      expect(await midctl(['rm', 'bot/idle'])).toBe('bot "idle" has been deleted\n');
    });
  });

  describe('a reference with a name too many', () => {
    const INSTANCE_ID = '0b6c9a41-1111-2222-3333-444455556666';

    it.each([
      [
        ['rm', `bot/keeper/${INSTANCE_ID}`],
        `rm KIND/NAME: got "bot/keeper/${INSTANCE_ID}", a bot is named by one segment (bot/<name>); only bot instances take two (bot_instance/<bot>/<id>); an instance of bot "keeper" is bot_instance/keeper/${INSTANCE_ID}`,
      ],
      [
        ['rm', 'role/access/extra'],
        'rm KIND/NAME: got "role/access/extra", a role is named by one segment (role/<name>); only bot instances take two (bot_instance/<bot>/<id>)',
      ],
      [
        ['get', 'role/access/x'],
        'get KIND[/NAME]: got "role/access/x", a role is named by one segment (role/<name>)',
      ],
      [['get', 'bots/keeper/x'], 'get KIND[/NAME]: got "bots/keeper/x", a bot is named by one segment'],
      [
        ['rm', `bot_instance/keeper/${INSTANCE_ID}/x`],
        `rm KIND/NAME: got "bot_instance/keeper/${INSTANCE_ID}/x", a bot instance is bot_instance/<bot>/<id>, with no more after the id`,
      ],
      [
        ['rm', 'bot_instance/keeper'],
        'rm KIND/NAME: got "bot_instance/keeper", which names no instance; write bot_instance/<bot>/<id>',
      ],
    ])('midctl %j is refused before any request, and nothing is removed', async (args, expected) => {
      await midctl(['bots', 'add', 'keeper', '--roles=access']);
      try {
        const deletions = (await json(['events', 'ls', '--type', 'resource.delete'])).length;
        await expect(midctl(args)).rejects.toMatchObject({
          code: 'invalid_reference',
          message: expect.stringContaining(expected),
        });
        expect(await json(['get', 'bot/keeper'])).toMatchObject({ metadata: { name: 'keeper' } });
        expect(await json(['get', 'role/access'])).toMatchObject({ metadata: { name: 'access' } });
        expect(await json(['events', 'ls', '--type', 'resource.delete'])).toHaveLength(deletions);
      } finally {
        await midctl(['bots', 'rm', 'keeper']);
      }
    });
  });

  describe('create -f of a token-method token whose metadata.expires is refused', () => {
    const secret = 'f'.repeat(32);
    const tokenFor = (bot: string, expires?: string) =>
      `kind: token\nversion: v2\nmetadata:\n  name: ${secret}\n${expires === undefined ? '' : `  expires: ${expires}\n`}spec:\n  roles: [Bot]\n  join_method: token\n  bot_name: ${bot}\n`;
    const createFile = (name: string, text: string) => {
      const file = join(root, name);
      writeFileSync(file, text);
      return midctl(['create', '-f', file]).catch((caught: unknown) => caught);
    };
    const setOrMake =
      'set metadata.expires (an RFC 3339 time, at most 366 days ahead), or let `midctl bots add later --roles=ROLES --ttl=1h` make the bot with a token of its own (bot "later" does not exist yet, so `midctl tokens add` cannot)';

    it.each([
      [
        undefined,
        'token_expiry_required',
        `metadata.expires (line 4): got nothing, but a token-method token is a secret and must stop working; ${setOrMake}`,
      ],
      [
        '2020-01-01T00:00:00Z',
        'token_expired',
        'metadata.expires (line 5): got 2020-01-01T00:00:00.000Z, a time that has passed; set a future time, or let `midctl bots add later --roles=ROLES --ttl=1h` make the bot with a token of its own (bot "later" does not exist yet, so `midctl tokens add` cannot)',
      ],
      [
        '2999-01-01T00:00:00Z',
        'token_lifetime_too_long',
        'metadata.expires (line 5): got 2999-01-01T00:00:00.000Z, more than 366 days ahead; set an earlier time',
      ],
    ])(
      'names the file and the line for expires %j, and for a bot not made yet no `tokens add`',
      async (expires, code, problem) => {
        const file = join(root, 'tk.yaml');
        expect(await createFile('tk.yaml', tokenFor('later', expires))).toMatchObject({
          code,
          message: `${file}: token (name hidden): ${problem}`,
        });
      },
    );

    it('offers `tokens add` for a bot that exists, and after the create for a bot the same file makes', async () => {
      await midctl(['bots', 'add', 'early', '--roles=access']);
      try {
        expect(await createFile('early.yaml', tokenFor('early'))).toMatchObject({
          message: expect.stringMatching(
            /: got nothing, .*, or let `midctl tokens add --type=bot --bot-name=early --ttl=1h` make one$/,
          ),
        });
      } finally {
        await midctl(['bots', 'rm', 'early']);
      }
      const bot = 'kind: bot\nversion: v1\nmetadata:\n  name: later\nspec:\n  roles: [access]\n---\n';
      const file = join(root, 'both.yaml');
      expect(await createFile('both.yaml', bot + tokenFor('later'))).toMatchObject({
        message: `${file} document 2: token (name hidden): metadata.expires (line 11): got nothing, but a token-method token is a secret and must stop working; set metadata.expires (an RFC 3339 time, at most 366 days ahead), or leave the token out and, once the bot is created, let \`midctl tokens add --type=bot --bot-name=later --ttl=1h\` make one`,
      });
      expect(await json(['get', 'bots'])).not.toContainEqual(
        expect.objectContaining({ metadata: expect.objectContaining({ name: 'later' }) }),
      );
    });
  });

  describe('a data directory whose files are not what the auth service wrote', () => {
    /** A copy of the running service's data directory, with `file` replaced by `content`. */
    const copyWith = (name: string, file: 'serverInfo' | 'adminToken', content: string) => {
      const copy = join(root, name);
      cpSync(localDataDir, copy, { recursive: true });
      writeFileSync(localServerFiles(copy)[file], content);
      return copy;
    };

    it.each([
      ['{ bad', ' is not JSON (syntax error at character 2)'],
      ['', ' is empty'],
      [
        '{"url": 5, "cluster_name": "c", "ca_pin": "p", "pid": 1}',
        ': url: got 5, expected the https URL the auth service listens on',
      ],
    ])(
      'names auth-server.json holding %j, what is wrong and the restart that rewrites it',
      async (content, problem) => {
        const copy = copyWith(`info-${content.length}`, 'serverInfo', content);
        const file = localServerFiles(copy).serverInfo;
        await expect(inProcessMidctl(copy)(['status'])).rejects.toMatchObject({
          code: 'invalid_server_info',
          message: `${file}${problem}; the auth service rewrites this file at every start: restart it with \`midctl auth start --data-dir ${copy}\` (after stopping the one running, if any)`,
        });
      },
    );

    it('says a relative --data-dir that does not exist is read from the current directory, instead of advising a new cluster there', async () => {
      const relative = join('no-such-folder-here', 'auth');
      await expect(inProcessMidctl(relative)(['status'])).rejects.toMatchObject({
        code: 'auth_server_unknown',
        message: `no auth server address: the data directory ${relative} does not exist in ${process.cwd()} (a relative --data-dir or MID_DATA_DIR is read from the current directory); run midctl from the folder the service was started in, or give the data directory's absolute path (to start a new cluster there: \`midctl auth start --data-dir ${relative}\`)`,
      });
      const absolute = join(root, 'never-started');
      await expect(inProcessMidctl(absolute)(['status'])).rejects.toMatchObject({
        code: 'auth_server_unknown',
        message: `no auth server address: ${localServerFiles(absolute).serverInfo} is missing; start it with \`midctl auth start --data-dir ${absolute}\` or pass --auth-server`,
      });
    });

    it('refuses a --data-dir that is one of its files, naming the folder to pass', async () => {
      const file = localServerFiles(localDataDir).adminToken;
      await expect(inProcessMidctl(file)(['status'])).rejects.toMatchObject({
        code: 'invalid_data_dir',
        message: `--data-dir ${file} is a file, not the auth service's data directory; pass the folder that holds it (${localDataDir}), the one \`midctl auth start --data-dir\` was given`,
      });
    });

    it("says the admin credential of --data-dir is not the running service's, rather than to pass --data-dir", async () => {
      const copy = copyWith('stale-admin', 'adminToken', 'not-the-credential-it-started-with\n');
      await expect(inProcessMidctl(copy)(['status'])).rejects.toMatchObject({
        code: 'admin_auth_failed',
        message: `the admin credential in ${localServerFiles(copy).adminToken} does not match the running auth service's: the service reads that file only when it starts, so the file changed since, or the service was started from another data directory (a copy of this one); restart the service with \`midctl auth start --data-dir ${copy}\` so it reads this file, or pass the --data-dir the running service was started with`,
      });
    });
  });

  it('refuses a bot with a role that does not exist with a role.yaml to start from, which creates it', async () => {
    const error = await midctl(['bots', 'add', 'starter', '--roles=starter-access']).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'role_not_found' });
    const message = (error as Error).message;
    expect(message).toContain('role "starter-access" does not exist (a cluster has no preset roles)');
    const example = /e\.g\. a role\.yaml allowing SSH as root on every node: (\{.*\})$/.exec(message)?.[1];
    expect(example).toBeDefined();
    const file = join(root, 'starter-role.yaml');
    writeFileSync(file, `${example}\n`);
    await midctl(['create', '-f', file]);
    await expect(midctl(['bots', 'add', 'starter', '--roles=starter-access'])).resolves.toContain(
      'The bot token: ',
    );
  });

  it('creates from a file given alone, as tctl takes it, and says how to replace what exists', async () => {
    const file = join(root, 'positional-role.yaml');
    writeFileSync(file, 'kind: role\nversion: v7\nmetadata: {name: positional}\nspec: {}\n');

    await expect(midctl(['create', file])).resolves.toContain('role "positional" has been created');
    await expect(midctl(['create', '-f', file])).rejects.toMatchObject({
      code: 'already_exists',
      message: `role "positional" already exists; use --force to replace it: run \`midctl create --force -f ${file}\` (in midctl, -f names the file, as --file; tctl's -f is --force)`,
    });
    await expect(midctl(['create', '--force', file])).resolves.toContain(
      'role "positional" has been updated',
    );
    await expect(midctl(['create'])).rejects.toThrow('create needs the file to read: midctl create -f FILE');
    await expect(midctl(['create', file, '-f', `${file}.other`])).rejects.toThrow(
      `create reads one file: got ${file} and --file ${file}.other`,
    );
  });

  it('lists nodes, apps and Kubernetes clusters under the names tctl uses', async () => {
    for (const [group, kind] of [
      ['nodes', 'nodes'],
      ['apps', 'apps'],
      ['kube', 'kube_clusters'],
    ]) {
      expect(await midctl([group as string, 'ls'])).toBe(
        await midctl(['get', kind as string, '--format', 'text']),
      );
      expect(await midctl([group as string, 'ls', '--format', 'json'])).toBe(
        await midctl(['get', kind as string, '--format', 'json']),
      );
    }
  });

  describe('refusals name the flag and the value as typed', () => {
    it.each([
      [
        ['bots', 'add', 'x', '--roles=access', '--ttl=0s'],
        'ERROR: --ttl: got "0s", expected a lifetime longer than zero, e.g. --ttl=1h',
      ],
      [
        ['bots', 'add', 'x', '--roles=access', '--ttl=100000h'],
        'ERROR: --ttl: got "100000h", expected at most 8784h (366 days); give a shorter lifetime, e.g. --ttl=24h',
      ],
      [
        ['tokens', 'add', '--type=bot', '--bot-name=x', '--ttl=100000h'],
        'ERROR: --ttl: got "100000h", expected at most 8784h (366 days)',
      ],
      [
        ['bots', 'add', 'x', '--roles=access', '--ttl=400d'],
        'ERROR: --ttl: "400d" is not a duration; write it in h, m, s or ms, like 1h, 20m, 90s or 1h30m (days are not a unit: write 400d as 9600h); a token lives at most 8784h (366 days)',
      ],
      [
        ['tokens', 'add', '--type=bot', '--bot-name=x', '--ttl=soon'],
        'ERROR: --ttl: "soon" is not a duration; write it in h, m, s or ms, like 1h, 20m, 90s or 1h30m; a token lives at most 8784h (366 days)',
      ],
      [
        ['events', 'ls', '--limit', 'abc'],
        'ERROR: --limit: got "abc", expected a whole number from 1 to 1000, e.g. --limit 100',
      ],
      [
        ['events', 'ls', '--limit', '1.5'],
        'ERROR: --limit: got "1.5", expected a whole number from 1 to 1000',
      ],
      [
        ['events', 'ls', '--limit', '100000'],
        'ERROR: --limit: got "100000", expected a whole number from 1 to 1000',
      ],
      [
        ['events', 'ls', '--type', 'join'],
        'ERROR: --type: got "join", expected an event type (bot.authenticate, bot.create, bot.heartbeat, bot.join, bot.lock, bot.renew, bot.unlock, bot.update, cert.issue, resource.create, resource.delete, resource.update, role.lock, role.unlock, token.create, request) or a category for all its types (bot, cert, resource, role, token); did you mean --type bot.join?',
      ],
      [
        ['events', 'ls', '--type', 'bot.joinn'],
        'ERROR: --type: got "bot.joinn", expected an event type (bot.authenticate, bot.create, bot.heartbeat, bot.join, bot.lock, bot.renew, bot.unlock, bot.update, cert.issue, resource.create, resource.delete, resource.update, role.lock, role.unlock, token.create, request) or a category for all its types (bot, cert, resource, role, token); did you mean --type bot.join?',
      ],
      [['events', 'ls', '--type', 'cert_issue'], '; did you mean --type cert.issue?'],
      [['events', 'ls', '--type', 'bots'], '; did you mean --type bot?'],
      [
        ['events', 'ls', '--type', 'bot.*'],
        'ERROR: --type: got "bot.*", expected an event type (bot.authenticate, bot.create, bot.heartbeat, bot.join, bot.lock, bot.renew, bot.unlock, bot.update, cert.issue, resource.create, resource.delete, resource.update, role.lock, role.unlock, token.create, request) or a category for all its types (bot, cert, resource, role, token)',
      ],
      [
        ['bots', 'add', 'x', '--roles=access', '--logins=root user'],
        'ERROR: --logins: got "root user", not a valid login; a login is a POSIX user name',
      ],
      [
        ['bots', 'add', 'x', '--roles=access', '--logins='],
        'ERROR: --logins: give a comma-separated list, e.g. --logins=root,ubuntu',
      ],
      [
        ['bots', 'update', 'x', '--add-logins=root,root user'],
        'ERROR: --add-logins: got "root user", not a valid login; a login is a POSIX user name',
      ],
      [
        ['bots', 'update', 'x', '--set-logins=Admin'],
        'ERROR: --set-logins: got "Admin", not a valid login; a login is a POSIX user name',
      ],
      [
        ['bots', 'update', 'x', '--set-logins=,'],
        'ERROR: --set-logins: give a comma-separated list, e.g. --set-logins=root,ubuntu',
      ],
      [
        ['bots', 'update', 'x', '--add-logins=root', '--set-logins=ubuntu'],
        "ERROR: --add-logins and --set-logins were both given; use --add-logins to add to the bot's logins, or --set-logins to replace them",
      ],
      [
        ['bots', 'update', 'x', '--add-roles=access', '--set-roles=access'],
        'ERROR: --add-roles and --set-roles were both given',
      ],
      [
        ['bots', 'update', 'x'],
        'ERROR: nothing to change; give --add-roles or --set-roles, --add-logins or --set-logins',
      ],
      [
        ['bots', 'add', 'bad name', '--roles=access'],
        'ERROR: bots add NAME: got "bad name", a space is not allowed in a name; a name is 1 to 63',
      ],
      [
        ['bots', 'add', 'x', '--roles=access,Bad Role'],
        'ERROR: --roles: got "Bad Role", a space is not allowed in a name',
      ],
      [
        ['tokens', 'add', '--type=bot', '--bot-name=bad name'],
        'ERROR: --bot-name: got "bad name", a space is not allowed in a name',
      ],
      [
        ['get', 'role/access,role/x'],
        'ERROR: get KIND[/NAME]: got "role/access,role/x", a comma-separated list; midctl takes one resource per argument: run `midctl get role/access`, then `midctl get role/x`',
      ],
      [
        ['get', 'roles,bots'],
        'ERROR: get KIND[/NAME]: got "roles,bots", a comma-separated list; midctl takes one resource per argument: run `midctl get roles`, then `midctl get bots`',
      ],
      [
        ['get', 'role/a b'],
        'ERROR: get KIND[/NAME]: got "role/a b", a space is not allowed in a name; a name is 1 to 63 letters',
      ],
      [['get', 'role/..'], 'ERROR: get KIND[/NAME]: got "role/..", a name cannot start with "."; a name is'],
      [['rm', 'role/.'], 'ERROR: rm KIND/NAME: got "role/.", a name cannot start with "."'],
      [
        ['get', 'rol/access'],
        'ERROR: get KIND[/NAME]: got "rol/access", unknown resource kind "rol"; use one of roles, bots, tokens, apps, kube_clusters, nodes, bot_instances',
      ],
      [['get', 'locks'], 'ERROR: get KIND[/NAME]: got "locks", but locks are listed with `midctl locks ls`'],
      [
        ['get', 'lock/x'],
        'ERROR: get KIND[/NAME]: got "lock/x", but locks are listed with `midctl locks ls`',
      ],
      [
        ['rm', 'lock/x'],
        'ERROR: rm KIND/NAME: got "lock/x", but a lock is lifted with `midctl unlock bot/NAME`, `midctl unlock bot_instance/BOT/ID` or `midctl unlock role/NAME`',
      ],
      [
        ['rm', 'access'],
        'ERROR: rm KIND/NAME: got "access", unknown resource kind "access"; use one of roles, bots, tokens, apps, kube_clusters, nodes, bot_instances; to remove a resource named "access", write its kind too, e.g. role/access',
      ],
      [
        ['get', 'tokenz'],
        'ERROR: get KIND[/NAME]: got "tokenz", unknown resource kind "tokenz"; use one of roles, bots, tokens, apps, kube_clusters, nodes, bot_instances (did you mean tokens?)',
      ],
      [['bots', 'rm', 'robot/abc'], 'ERROR: bots rm NAME: got "robot/abc", "/" is not allowed in a name'],
      [
        ['bots', 'rm', 'a,b'],
        'ERROR: bots rm NAME: got "a,b", "," is not allowed in a name; a name is 1 to 63 letters, digits, ".", "_" or "-", starts with a letter or digit and has no ".."; bots rm NAME takes one name, not a list: run it once per name',
      ],
      [
        ['bots', 'update', 'x/y', '--add-roles=access'],
        'ERROR: bots update NAME: got "x/y", "/" is not allowed in a name',
      ],
      [['bots', 'instances', 'ls', 'a b'], 'ERROR: bots instances ls BOT: got "a b", a space is not allowed'],
      [
        ['bots', 'instances', 'show', 'robot/a b'],
        'ERROR: bots instances show BOT/ID: got "robot/a b", a space is not allowed',
      ],
      [
        ['lock', 'bot_instance/robot/some-id', '--message', 'two\nlines'],
        'ERROR: --message: got "two\\nlines", a line break is not allowed in a lock message',
      ],
      [
        ['lock', 'bot_instance/robot/some-id', '--message', '   '],
        'ERROR: --message: got "   ", the message is blank; leave it out for the default',
      ],
      [
        ['lock', 'bot_instance/robot/some-id', '--message', `right-to-left \u202e ${'x'.repeat(100)}`],
        'ERROR: --message: got "right-to-left \\u202e xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...", the invisible character U+202E is not allowed in a lock message',
      ],
      [
        ['lock', '--user', 'bot-robot'],
        "ERROR: lock --user: midctl locks bots by name, not users: a bot's user bot-NAME is locked with `midctl lock bot/NAME`; here: `midctl lock bot/robot`",
      ],
      [
        ['lock', 'bot/robot', '--ttl', '0s'],
        'ERROR: --ttl: got "0s", expected a lifetime longer than zero and at most 8784h',
      ],
      [['lock', 'bot/robot', '--ttl', '2 weeks'], 'ERROR: --ttl: "2 weeks" is not a duration'],
      [
        ['lock', 'bot/robot', '--ttl', '1h', '--expires', '2030-01-01T00:00:00Z'],
        'ERROR: --ttl and --expires were both given',
      ],
      [
        ['lock', 'bot/robot', '--expires', 'tomorrow'],
        'ERROR: --expires: got "tomorrow", expected an RFC 3339 time with its offset, e.g. --expires=2026-12-01T09:00:00Z',
      ],
      [
        ['lock', 'bot/robot', '--expires', '2020-01-01T00:00:00Z'],
        'ERROR: --expires: got "2020-01-01T00:00:00Z", which has already passed',
      ],
      [
        ['lock'],
        'ERROR: lock needs what to lock: midctl lock bot/NAME for a whole bot, midctl lock bot_instance/BOT/ID for one instance',
      ],
      [['lock', 'role/nope'], 'ERROR: role "nope" does not exist'],
      [
        ['lock', '--role', 'ops'],
        'ERROR: lock --role: name the role as an argument, role/NAME; here: `midctl lock role/ops`',
      ],
      [
        ['lock', 'robot'],
        'ERROR: lock bot/NAME, bot_instance/BOT/ID or role/NAME: got "robot", which names no kind; to lock the bot "robot", write bot/robot',
      ],
      [
        ['unlock', 'robot'],
        'ERROR: unlock bot/NAME, bot_instance/BOT/ID or role/NAME: got "robot", which names no kind; to unlock the bot "robot", write bot/robot',
      ],
      [
        ['lock', 'user/bot-robot'],
        'ERROR: lock bot/NAME, bot_instance/BOT/ID or role/NAME: got "user/bot-robot", a user; midctl locks bots by name: write bot/robot',
      ],
      [
        ['lock', 'user/alice'],
        'ERROR: lock bot/NAME, bot_instance/BOT/ID or role/NAME: got "user/alice", midctl locks bots by name, not users: a bot\'s user bot-NAME is locked with `midctl lock bot/NAME`',
      ],
      [
        ['lock', 'token/abc'],
        'ERROR: lock bot/NAME, bot_instance/BOT/ID or role/NAME: got "token/…", only bots, bot instances and roles are locked',
      ],
      [
        ['lock', 'node/web-1'],
        'ERROR: lock bot/NAME, bot_instance/BOT/ID or role/NAME: got "node/web-1", only bots, bot instances and roles are locked',
      ],
      [
        ['lock', 'bot'],
        'ERROR: lock bot/NAME, bot_instance/BOT/ID or role/NAME: got "bot", which names no resource; write bot/<name>',
      ],
      [
        ['unlock', 'bot_instance/robot'],
        'ERROR: unlock bot/NAME, bot_instance/BOT/ID or role/NAME: got "bot_instance/robot", which names no instance',
      ],
      [['unlock', 'bot/robot'], 'ERROR: bot "robot" does not exist'],
      [
        ['tokens', 'rm', 'abc/def'],
        'ERROR: tokens rm NAME: got a name (not shown: it may be the token itself), "/" is not allowed in a name',
      ],
    ])('midctl %j', async (args, expected) => {
      const error = await midctl(args).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Error);
      expect(`ERROR: ${(error as Error).message}`).toContain(expected);
      expect((error as Error).message).not.toMatch(/body\.|spec\.traits|bot: bot|no route/);
    });
  });
});

describe('midctl --auth-server of another cluster', () => {
  it('says the service is not the cluster of --data-dir, not that a CA pin will be checked', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mid-midctl-other-'));
    const ours = await startLocalAuthServer({
      dataDir: join(root, 'ours'),
      port: 0,
      logger: silentLogger,
      iamJoin: false,
    });
    const theirs = await startLocalAuthServer({
      dataDir: join(root, 'theirs'),
      port: 0,
      logger: silentLogger,
      iamJoin: false,
    });
    try {
      const midctl = inProcessMidctl(join(root, 'ours'));
      const other = `127.0.0.1:${theirs.port}`;
      const error = await midctl(['--auth-server', other, 'status']).catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: 'auth_unreachable',
        message: `the auth service at https://${other} presented a certificate this connection does not trust (SELF_SIGNED_CERT_IN_CHAIN): it is not the auth service of the cluster whose CA and admin credential midctl read from --data-dir ${join(root, 'ours')}; check that --auth-server (or MID_AUTH_SERVER) and --data-dir (or MID_DATA_DIR) name the same cluster`,
      });
      expect((error as Error).message).not.toContain('CA pin');
    } finally {
      await ours.close();
      await theirs.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('midctl auth start on an address it cannot listen on', () => {
  it('names --listen and the fix, and leaves no cluster behind', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mid-midctl-listen-'));
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const { port } = blocker.address() as AddressInfo;
    try {
      const dataDir = join(root, 'data');
      const listen = `127.0.0.1:${port}`;
      await expect(inProcessMidctl(dataDir)(['auth', 'start', '--listen', listen])).rejects.toMatchObject({
        code: 'listen_failed',
        message: `--listen: cannot listen on ${listen} (EADDRINUSE): another program already listens there; stop it or choose another port`,
      });
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await new Promise((done) => blocker.close(done));
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('midctl bots add prints the address a bot on another host uses', () => {
  async function botsAddOn(options: { host: string; publicAddrs?: string[] }) {
    const root = mkdtempSync(join(tmpdir(), 'mid-midctl-addr-'));
    const dataDir = join(root, 'data');
    const server = await startLocalAuthServer({
      dataDir,
      port: 0,
      logger: silentLogger,
      iamJoin: false,
      ...options,
    });
    try {
      const midctl = inProcessMidctl(dataDir);
      await midctl(['create', '-f', '-'], ROLE('access'));
      const text = await midctl(['bots', 'add', 'far', '--roles=access']);
      const json = JSON.parse(await midctl(['bots', 'add', 'farther', '--roles=access', '--format', 'json']));
      const status = await midctl(['status']);
      const statusJson = JSON.parse(await midctl(['status', '--format', 'json']));
      return { text, json, status, statusJson, port: server.port };
    } finally {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    }
  }

  it('gives the first --public-addr, which the certificate names, rather than 127.0.0.1', async () => {
    const { text, json, port } = await botsAddOn({
      host: '0.0.0.0',
      publicAddrs: ['192.0.2.2', 'mid.example.test'],
    });
    expect(text).toContain(`   --auth-server=https://192.0.2.2:${port}\n`);
    expect(text).toContain(`auth_server: "https://192.0.2.2:${port}"`);
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toContain('NOTE:');
    expect(json).toMatchObject({ auth_server: `https://192.0.2.2:${port}` });
    expect(json.notes).toBeUndefined();
  });

  it('midctl status gives the same address, and the one midctl uses on this host', async () => {
    const { status, statusJson, port } = await botsAddOn({
      host: '0.0.0.0',
      publicAddrs: ['mid.example.test'],
    });
    expect(status).toContain(
      `Auth server  https://mid.example.test:${port} (midctl uses https://127.0.0.1:${port} on this host)\n`,
    );
    expect(statusJson).toMatchObject({
      auth_server: `https://mid.example.test:${port}`,
      admin_url: `https://127.0.0.1:${port}`,
    });
    const local = await botsAddOn({ host: '127.0.0.1' });
    expect(local.status).toContain(`Auth server  https://127.0.0.1:${local.port}\n`);
    expect(local.statusJson.admin_url).toBeUndefined();
  });

  it('says that 127.0.0.1 works only on this host when it listens on all interfaces without --public-addr', async () => {
    const { text, json, port } = await botsAddOn({ host: '0.0.0.0' });
    const note = `https://127.0.0.1:${port} works only on this host: the auth service listens on all interfaces (0.0.0.0), but its certificate names only localhost and loopback addresses, so midbot on another host cannot use any address of this one; restart \`midctl auth start\` with --public-addr <this host's DNS name or IP> (the address the bot will use), and use https://<that address>:${port}`;
    expect(text).toContain(`NOTE: ${note}\n\nRun this midbot command on the host where the bot should run:`);
    expect(json).toMatchObject({ auth_server: `https://127.0.0.1:${port}`, notes: [note] });
  });

  it('adds nothing when it listens on loopback only, as by default', async () => {
    const { text, port } = await botsAddOn({ host: '127.0.0.1' });
    expect(text).toContain(`   --auth-server=https://127.0.0.1:${port}\n`);
    expect(text).not.toContain('NOTE:');
  });
});
