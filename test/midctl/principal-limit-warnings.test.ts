import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAuthServer, startLocalAuthServer } from '../../lib/auth/local/local-auth-server.js';
import { silentLogger } from '../../lib/core/logger.js';
import { inProcessMidctl } from './in-process-midctl.js';

const WEB_ROLE =
  'kind: role\nversion: v7\nmetadata: {name: web}\nspec: {allow: {logins: [root, deploy], node_labels: {tier: web}}}\n';
const ALL_ROLE =
  "kind: role\nversion: v7\nmetadata: {name: all}\nspec: {allow: {logins: [admin], node_labels: {'*': '*'}}}\n";
const scopedNodes = (from: number, count: number) =>
  Array.from(
    { length: count },
    (_, index) =>
      `kind: node\nsub_kind: openssh\nversion: v2\nmetadata: {name: web-${from + index}, labels: {tier: web}}\nspec: {addr: 'web-${from + index}.internal:22', hostname: web-${from + index}, scoped_principals: true}\n`,
  ).join('---\n');

describe('midctl warns when a change pushes a bot over the OpenSSH principal limit', () => {
  let root: string;
  let server: LocalAuthServer;
  let midctl: ReturnType<typeof inProcessMidctl>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mid-midctl-principals-'));
    const dataDir = join(root, 'data');
    server = await startLocalAuthServer({ dataDir, port: 0, logger: silentLogger, iamJoin: false });
    midctl = inProcessMidctl(dataDir);
    await midctl(['create', '-f', '-'], `${WEB_ROLE}---\n${ALL_ROLE}`);
    await midctl(['bots', 'add', 'fleet', '--roles=web']);
  });

  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('says nothing while every bot fits, and names the bot when one node too many is created', async () => {
    // 2 logins + 2 × 127 scoped principals = 256: the most OpenSSH accepts.
    expect(await midctl(['create', '-f', '-'], scopedNodes(0, 100))).not.toContain('WARNING');
    expect(await midctl(['create', '-f', '-'], scopedNodes(100, 27))).not.toContain('WARNING');

    const printed = await midctl(['create', '-f', '-'], scopedNodes(127, 1));

    expect(printed).toBe(
      'node "web-127" has been created\n' +
        'WARNING: bot "fleet" would get 258 SSH principals in an identity output with all its roles ' +
        '(2 logins, 256 for nodes with scoped_principals), more than the 256 OpenSSH accepts: such outputs ' +
        'fail with too_many_principals from their next renewal; give them fewer roles (roles: [...] in the ' +
        'output), narrow the roles’ logins or node_labels, or unset scoped_principals on nodes that do not need it\n',
    );
    await midctl(['rm', 'node/web-127']);
  });

  it('warns after bots add and bots update give a bot roles that reach too many nodes', async () => {
    const added = await midctl(['bots', 'add', 'wide', '--roles=all']);
    expect(added).not.toContain('WARNING');

    const updated = await midctl(['bots', 'update', 'wide', '--add-roles=web']);

    // admin + 2 logins on 127 nodes, and admin on each of them: 3 + 3 × 127.
    expect(updated).toMatch(
      /^bot "wide" now has roles: all, web; logins trait \(\{\{internal\.logins\}\}\): \(none\)\nWARNING: bot "wide" would get 384 SSH principals/,
    );
    expect(updated).not.toContain('bot "fleet"');

    const json = JSON.parse(await midctl(['bots', 'add', 'wider', '--roles=all,web', '--format', 'json']));
    expect(json.warnings).toEqual([
      expect.stringMatching(/^bot "wide" would get 384/),
      expect.stringMatching(/^bot "wider" would get 384/),
    ]);
  });
});
