import { describe, expect, it } from 'vitest';
import { parseResource } from '../../lib/resources/resource.js';
import { configErrorOf, withField } from './helpers.js';

const app = {
  kind: 'app',
  version: 'v3',
  metadata: { name: 'grafana-example', description: 'Grafana', labels: { env: 'prod' } },
  spec: { uri: 'http://localhost:3000', public_addr: 'grafana.example.com:443' },
};

const errorOf = (doc: unknown) => configErrorOf(() => parseResource(doc));

describe('app', () => {
  it('reads every supported field', () => {
    expect(parseResource(app)).toEqual(app);
  });

  it.each(['https://10.0.0.7:8443/api', 'http://grafana.internal', 'http://[::1]:3000/'])(
    'accepts the uri %j',
    (uri) => {
      expect(parseResource(withField(app, 'spec.uri', uri))).toBeTruthy();
    },
  );

  it.each(['grafana.example.com', '10.0.0.7:443', '[2001:db8::1]:443'])(
    'accepts the public_addr %j',
    (addr) => {
      expect(parseResource(withField(app, 'spec.public_addr', addr))).toBeTruthy();
    },
  );

  it.each([
    ['tcp://localhost:5432', 'the scheme must be http or https, e.g. http://localhost:3000'],
    ['localhost:3000', 'the scheme must be http or https'],
    ['not a url', 'a space is not allowed in a URL'],
    ['http://user:secret@localhost:3000', 'remove the user name and password from the URL'],
    ['http://local\nhost', 'a line break is not allowed in a URL'],
    ['http://', 'expected a URL such as http://localhost:3000'],
  ])('refuses the uri %j', (uri, reason) => {
    expect(errorOf(withField(app, 'spec.uri', uri))).toContain(
      `app "grafana-example": spec.uri: got ${JSON.stringify(uri)}, ${reason}`,
    );
  });

  it.each([
    ['grafana.example.com:99999', 'the port 99999 is not between 1 and 65535'],
    ['grafana example.com', '"grafana example.com" is not a host name or IP address'],
    ['https://grafana.example.com', 'expected host or host:port'],
    ['[not-ipv6]:443', '"[not-ipv6]" is not a host name or IP address'],
  ])('refuses the public_addr %j', (addr, reason) => {
    expect(errorOf(withField(app, 'spec.public_addr', addr))).toContain(
      `spec.public_addr: got ${JSON.stringify(addr)}, ${reason}`,
    );
  });

  it('refuses a missing uri, an unknown key and a wrong version', () => {
    expect(errorOf(withField(app, 'spec.uri', undefined))).toContain(
      'spec.uri: got nothing, expected a string',
    );
    expect(errorOf(withField(app, 'spec.rewrite', {}))).toContain('spec: unknown key "rewrite"');
    expect(errorOf(withField(app, 'version', 'v2'))).toContain(
      'app "grafana-example": version: got "v2", app supports version v3',
    );
  });
});
