import { describe, expect, it } from 'vitest';
import { botsOverPrincipalLimit } from '../../lib/auth/principal-limit.js';
import type { Bot } from '../../lib/resources/bot.js';
import type { Node } from '../../lib/resources/node.js';
import { parseResource } from '../../lib/resources/resource.js';
import type { Role } from '../../lib/resources/role.js';
import { createFixture, issueOutput } from './auth-fixture.js';

const ROLE = (name: string, allow: object) => ({
  kind: 'role',
  version: 'v7',
  metadata: { name },
  spec: { allow },
});
const NODE = (name: string, scoped = true) => ({
  kind: 'node',
  sub_kind: 'openssh',
  version: 'v2',
  metadata: { name, labels: { tier: 'web' } },
  spec: { addr: `${name}.internal:22`, hostname: name, ...(scoped ? { scoped_principals: true } : {}) },
});
const BOT = (name: string, roles: string[], logins?: string[]) => ({
  kind: 'bot',
  version: 'v1',
  metadata: { name },
  spec: { roles, ...(logins === undefined ? {} : { traits: [{ name: 'logins', values: logins }] }) },
});
const webNodes = (count: number, scoped = true) =>
  Array.from({ length: count }, (_, index) => NODE(`web-${index}`, scoped));

function cluster(documents: { bots: object[]; roles: object[]; nodes: object[] }) {
  return {
    bots: documents.bots.map((document) => parseResource(document) as Bot),
    roles: documents.roles.map((document) => parseResource(document) as Role),
    nodes: documents.nodes.map((document) => parseResource(document) as Node),
  };
}

const WEB = ROLE('web', { logins: ['root', 'deploy'], node_labels: { tier: 'web' } });

describe('bots over the OpenSSH principal limit', () => {
  it('names a bot whose identity certificate would carry more than 256 principals, with the counts', () => {
    const breaches = botsOverPrincipalLimit(
      cluster({ bots: [BOT('fleet', ['web'])], roles: [WEB], nodes: webNodes(128) }),
    );

    expect(breaches).toEqual([{ bot: 'fleet', logins: 2, scoped: 256, total: 258 }]);
  });

  it('names none at the limit, nor for nodes without scoped_principals', () => {
    expect(
      botsOverPrincipalLimit(cluster({ bots: [BOT('fleet', ['web'])], roles: [WEB], nodes: webNodes(127) })),
    ).toEqual([]);
    expect(
      botsOverPrincipalLimit(
        cluster({ bots: [BOT('fleet', ['web'])], roles: [WEB], nodes: webNodes(500, false) }),
      ),
    ).toEqual([]);
  });

  it('counts logins from the bot’s traits, and only the bots that reach that many', () => {
    const templated = ROLE('templated', { logins: ['{{internal.logins}}'], node_labels: { tier: 'web' } });
    const breaches = botsOverPrincipalLimit(
      cluster({
        bots: [BOT('many', ['templated'], ['a', 'b', 'c']), BOT('few', ['templated'], ['a'])],
        roles: [templated],
        nodes: webNodes(100),
      }),
    );

    expect(breaches).toEqual([{ bot: 'many', logins: 3, scoped: 300, total: 303 }]);
  });

  it('leaves out roles that do not exist instead of failing', () => {
    expect(
      botsOverPrincipalLimit(
        cluster({ bots: [BOT('fleet', ['web', 'gone'])], roles: [WEB], nodes: webNodes(200) }),
      ),
    ).toEqual([{ bot: 'fleet', logins: 2, scoped: 400, total: 402 }]);
  });

  it('agrees with issuance: the bot it names is refused, one node fewer is issued', async () => {
    const fixture = await createFixture();
    await fixture.service.admin.putResources([WEB, ...webNodes(127)], false, 'test');
    const token = await fixture.addBot('fleet', ['web']);
    const { signer } = await fixture.join(token);
    await expect(issueOutput(fixture, signer, { output: 'identity' })).resolves.toBeDefined();

    await fixture.service.admin.putResources([NODE('web-127')], false, 'test');
    const bots = await fixture.service.admin.getResources('bots');
    const roles = await fixture.service.admin.getResources('roles');
    const nodes = await fixture.service.admin.getResources('nodes');

    expect(botsOverPrincipalLimit(cluster({ bots, roles, nodes }))).toEqual([
      { bot: 'fleet', logins: 2, scoped: 256, total: 258 },
    ]);
    await expect(issueOutput(fixture, signer, { output: 'identity' })).rejects.toMatchObject({
      code: 'too_many_principals',
    });
  });
});
