import { describe, expect, it } from 'vitest';
import { parseResource } from '../../lib/resources/resource.js';
import { configErrorOf, withField } from './helpers.js';

const node = {
  kind: 'node',
  sub_kind: 'openssh',
  version: 'v2',
  metadata: { name: 'web-1', labels: { env: 'prod', group: 'api-servers' } },
  spec: { addr: 'web-1.example.com:22', hostname: 'web-1' },
};

const errorOf = (doc: unknown) => configErrorOf(() => parseResource(doc));

describe('node', () => {
  it('reads an agentless OpenSSH node', () => {
    expect(parseResource(node)).toEqual(node);
  });

  it.each(['10.0.0.7:22', '[2001:db8::7]:2222', 'localhost:2222'])('accepts the addr %j', (addr) => {
    expect(parseResource(withField(node, 'spec.addr', addr))).toBeTruthy();
  });

  it('refuses a node that is not openssh', () => {
    expect(errorOf(withField(node, 'sub_kind', undefined))).toContain(
      'node "web-1": sub_kind: got nothing, only agentless OpenSSH nodes are supported; write sub_kind: openssh',
    );
    expect(errorOf(withField(node, 'sub_kind', 'openssh-ec2-ice'))).toContain(
      'sub_kind: got "openssh-ec2-ice", only agentless OpenSSH',
    );
  });

  it.each([
    ['web-1.example.com', 'the port is missing; expected host:port, e.g. web-1.example.com:22'],
    ['web-1.example.com:0', 'the port 0 is not between 1 and 65535'],
    ['web 1:22', '"web 1" is not a host name or IP address'],
    ['2001:db8::7:22', 'expected host:port'],
    ['web-1:22\nProxyCommand x', 'expected host:port'],
  ])('refuses the addr %j', (addr, reason) => {
    expect(errorOf(withField(node, 'spec.addr', addr))).toContain(
      `spec.addr: got ${JSON.stringify(addr)}, ${reason}`,
    );
  });

  it.each(['web 1', 'web-1\nProxyCommand sh', '-oProxyCommand=x', 'web_1', ''])(
    'refuses the hostname %j',
    (hostname) => {
      expect(errorOf(withField(node, 'spec.hostname', hostname))).toContain(
        `spec.hostname: got ${JSON.stringify(hostname)}, expected a host name`,
      );
    },
  );

  it('refuses unknown keys and a missing hostname', () => {
    expect(errorOf(withField(node, 'spec.public_addr', 'x'))).toContain('spec: unknown key "public_addr"');
    expect(errorOf(withField(node, 'spec.hostname', undefined))).toContain(
      'spec.hostname: got nothing, expected a string',
    );
  });
});
