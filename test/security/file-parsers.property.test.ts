import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { loadBotConfig } from '../../lib/bot/config/load-bot-config.js';
import { ConfigError } from '../../lib/core/errors.js';
import { parseResources } from '../../lib/resources/parse-resources.js';
import {
  applyTextEdit,
  edit,
  isMapping,
  nodesOf,
  otherType,
  type Path,
  pathText,
  REMOVE,
  settle,
  textEdit,
} from './property-support.js';

/**
 * Property tests for the files people write: resource YAML (`parseResources`, what `midctl create`
 * reads) and the agent config (`loadBotConfig`). From valid files, variants are built through the YAML
 * document model: reformatted (flow or block, quoted or plain: the same document, read the same),
 * with an unknown key, a key given twice, an alias, or a value of the wrong type (refused, naming the
 * path). Arbitrary text never crashes the parser.
 */
/**
 * Each sample has a few dozen nodes and each property a handful of variants per node, so 100 runs
 * visit every node several times; a YAML round trip costs about 2 ms, which bounds the count.
 */
const FILE_RUNS = { numRuns: 100 } as const;

const PIN = `sha256:${'1'.repeat(64)}`;
const TOKEN = 'tok-PROPERTY-SECRET-7f3a';
const caPem = readFileSync(new URL('../resources/fixtures/kube-ca.pem', import.meta.url), 'utf8');

interface FileSample {
  readonly value: Record<string, unknown>;
  /** Mappings whose keys are data (labels): an added key there is read as data, not refused. */
  readonly dataKeys?: (path: Path) => boolean;
}

const labelsAt = (path: Path) => /(^|_)labels$/.test(String(path.at(-1) ?? ''));

const RESOURCES: Record<string, FileSample> = {
  role: {
    value: {
      kind: 'role',
      version: 'v7',
      metadata: { name: 'ops', description: 'Deploys the web tier', labels: { team: 'web' } },
      spec: {
        allow: {
          logins: ['root', '{{internal.logins}}'],
          node_labels: { env: ['staging', 'prod'] },
          app_labels: { team: 'payments' },
          kubernetes_groups: ['viewers'],
          kubernetes_users: ['alice@example.com'],
          kubernetes_resources: [
            { kind: 'deployment', namespace: 'web-*', name: '*', verbs: ['get', 'list'] },
          ],
          rules: [{ resources: ['host_cert'], verbs: ['create'] }],
        },
        deny: { logins: ['admin'] },
        options: { max_session_ttl: '8h' },
      },
    },
    dataKeys: labelsAt,
  },
  bot: {
    value: {
      kind: 'bot',
      version: 'v1',
      metadata: { name: 'robot' },
      spec: { roles: ['ops'], traits: [{ name: 'logins', values: ['ubuntu'] }], max_session_ttl: '12h' },
    },
  },
  'iam token': {
    value: {
      kind: 'token',
      version: 'v2',
      metadata: { name: 'robot-iam', expires: '2030-01-01T00:00:00Z' },
      spec: {
        roles: ['Bot'],
        join_method: 'iam',
        bot_name: 'robot',
        allow: [{ aws_account: '111111111111', aws_arn: 'arn:aws:sts::111111111111:assumed-role/ci/*' }],
      },
    },
  },
  app: {
    value: {
      kind: 'app',
      version: 'v3',
      metadata: { name: 'grafana', labels: { env: 'prod' } },
      spec: { uri: 'http://localhost:3000', public_addr: 'grafana.example.com:443' },
    },
    dataKeys: labelsAt,
  },
  node: {
    value: {
      kind: 'node',
      sub_kind: 'openssh',
      version: 'v2',
      metadata: { name: 'web-1', labels: { env: 'prod' } },
      spec: { addr: 'web-1.example.com:22', hostname: 'web-1' },
    },
    dataKeys: labelsAt,
  },
  kube_cluster: {
    value: {
      kind: 'kube_cluster',
      version: 'v3',
      metadata: { name: 'prod' },
      spec: {
        api_server: 'https://10.0.0.1:6443',
        ca_cert: caPem,
        tls_server_name: 'kubernetes.default.svc',
      },
    },
  },
};

const CONFIGS: Record<string, FileSample> = {
  'a token bot writing folders': {
    value: {
      version: 'v2',
      auth_server: 'auth.example.com:443',
      onboarding: { join_method: 'token', token: TOKEN, ca_pins: [PIN] },
      storage: { type: 'directory', path: '/var/lib/midbot' },
      certificate_ttl: '1h',
      renewal_interval: '20m',
      outputs: [
        { type: 'identity', destination: { type: 'directory', path: '/opt/machine-id' } },
        {
          type: 'application',
          app_name: 'grafana',
          specific_tls_naming: true,
          destination: { type: 'directory', path: '/opt/machine-id-app' },
        },
        {
          type: 'kubernetes',
          kubernetes_cluster: 'prod',
          destination: { type: 'directory', path: '/opt/kube' },
        },
      ],
    },
  },
  'an iam bot writing secrets': {
    value: {
      version: 'v2',
      auth_server: 'https://auth.example.com',
      onboarding: { join_method: 'iam', token: 'robot-iam', ca_pins: [PIN] },
      storage: { type: 'memory' },
      oneshot: true,
      outputs: [
        {
          type: 'ssh_host',
          principals: ['node1.example.test'],
          roles: ['hosts'],
          destination: { type: 'aws_secrets_manager', name: 'machine-id/node1' },
        },
      ],
    },
  },
};

type Reader = (text: string) => unknown;

const readResources: Reader = (text) => parseResources(text, 'resources.yaml');
const readConfig: Reader = (text) => loadBotConfig(text, '/etc/midbot.yaml').config;

/** Serialises `value` with `change` made through the YAML document model. */
function yamlWith(value: unknown, change?: (doc: YAML.Document) => void): string {
  const doc = new YAML.Document(value);
  change?.(doc);
  return doc.toString();
}

function read(reader: Reader, text: string) {
  const outcome = settle(() => reader(text));
  if (!outcome.ok) expect(outcome.error).toBeInstanceOf(ConfigError);
  return outcome;
}

describe.each<[string, FileSample, Reader]>([
  ...Object.entries(RESOURCES).map(([name, sample]): [string, FileSample, Reader] => [
    `the ${name} resource`,
    sample,
    readResources,
  ]),
  ...Object.entries(CONFIGS).map(([name, sample]): [string, FileSample, Reader] => [
    `the config of ${name}`,
    sample,
    readConfig,
  ]),
])('%s', (_name, sample, reader) => {
  const original = () => read(reader, YAML.stringify(sample.value));

  it('is read the same in any YAML style', () => {
    expect(original().ok).toBe(true);
    fc.assert(
      fc.property(
        fc.record({
          collectionStyle: fc.constantFrom('any', 'block', 'flow') as fc.Arbitrary<'any' | 'block' | 'flow'>,
          defaultStringType: fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE') as fc.Arbitrary<
            'PLAIN' | 'QUOTE_DOUBLE' | 'QUOTE_SINGLE'
          >,
          defaultKeyType: fc.constantFrom(null, 'PLAIN', 'QUOTE_DOUBLE') as fc.Arbitrary<
            null | 'PLAIN' | 'QUOTE_DOUBLE'
          >,
          indent: fc.integer({ min: 1, max: 6 }),
          indentSeq: fc.boolean(),
        }),
        fc.boolean(),
        (options, comment) => {
          const text = YAML.stringify(sample.value, options);
          expect(read(reader, comment ? `# written by hand\n${text}# the end\n` : text)).toEqual(original());
        },
      ),
      FILE_RUNS,
    );
  });

  it('refuses an unknown key in any mapping, naming where it is (labels take any key as data)', () => {
    const mappings = nodesOf(sample.value).filter((node) => isMapping(node.value));
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom('zz_extra', 'Name', 'spec_'), (pick, key) => {
        const target = mappings[pick % mappings.length] as { path: Path };
        const outcome = read(
          reader,
          YAML.stringify(edit(sample.value, target.path, (node) => ({ ...(node as object), [key]: 'x' }))),
        );
        if (sample.dataKeys?.(target.path)) return;
        expect(outcome.ok, pathText(target.path)).toBe(false);
        if (!outcome.ok) {
          expect(outcome.error.message).toContain(`unknown key ${JSON.stringify(key)}`);
          expect(outcome.error.message).toContain(
            target.path.length === 0 ? '(top level)' : pathText(target.path),
          );
          expect(outcome.error.message).not.toContain(TOKEN);
        }
      }),
      FILE_RUNS,
    );
  });

  it('refuses a key given twice, naming it', () => {
    const mappings = nodesOf(sample.value).filter(
      (node) => isMapping(node.value) && Object.keys(node.value as object).length > 0,
    );
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (pick, which) => {
        const target = mappings[pick % mappings.length] as { path: Path; value: Record<string, unknown> };
        const key = Object.keys(target.value)[which % Object.keys(target.value).length] as string;
        const text = yamlWith(sample.value, (doc) => {
          const map = (
            target.path.length === 0 ? doc.contents : doc.getIn(target.path, true)
          ) as YAML.YAMLMap;
          map.items.push(doc.createPair(key, target.value[key]) as YAML.Pair);
        });
        const outcome = read(reader, text);
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) {
          // Both readers name the key; they word it differently ("duplicate key", "the key … appears").
          expect(outcome.error.message).toMatch(
            new RegExp(
              `(duplicate key|the key) ${JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
            ),
          );
          expect(outcome.error.message).not.toContain(TOKEN);
        }
      }),
      FILE_RUNS,
    );
  });

  it('refuses an alias, even to an equal value', () => {
    const scalars = nodesOf(sample.value).filter(
      (node) => node.path.length > 0 && typeof node.value === 'string',
    );
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (first, second) => {
        const a = scalars[first % scalars.length] as { path: Path; value: string };
        const later = scalars.slice((first % scalars.length) + 1);
        if (later.length === 0) return;
        const b = later[second % later.length] as { path: Path };
        const text = yamlWith(
          edit(sample.value, b.path, () => a.value),
          (doc) => {
            const anchored = doc.getIn(a.path, true) as YAML.Scalar;
            anchored.anchor = 'shared';
            doc.setIn(b.path, doc.createAlias(anchored, 'shared'));
          },
        );
        const outcome = read(reader, text);
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) expect(outcome.error.message).toMatch(/anchors? \(?&shared|alias/i);
      }),
      FILE_RUNS,
    );
  });

  it('refuses a value of the wrong type, naming its path (a label value may be one string or a list)', () => {
    const nodes = nodesOf(sample.value).filter((node) => node.path.length > 0);
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (pick, kind) => {
        const target = nodes[pick % nodes.length] as { path: Path; value: unknown };
        const replacement = otherType(target.value, kind);
        const outcome = read(reader, YAML.stringify(edit(sample.value, target.path, () => replacement)));
        const inLabels = target.path.some((_part, i) => i > 0 && labelsAt(target.path.slice(0, i + 1)));
        if (outcome.ok) {
          // The only values that take another shape: a label's value (a string or a list of strings).
          expect(inLabels, `${pathText(target.path)} accepted ${JSON.stringify(replacement)}`).toBe(true);
          return;
        }
        const named = typeof target.path.at(-1) === 'number' ? target.path.slice(0, -1) : target.path;
        expect(outcome.error.message).toContain(pathText(named));
        expect(outcome.error.message).not.toContain(TOKEN);
      }),
      FILE_RUNS,
    );
  });

  it('reads a removed key as missing: refused by name when required, nothing else changes when not', () => {
    const keys = nodesOf(sample.value).filter(
      (node) => node.path.length > 0 && typeof node.path.at(-1) === 'string',
    );
    fc.assert(
      fc.property(fc.nat(), (pick) => {
        const target = keys[pick % keys.length] as { path: Path };
        const outcome = read(reader, YAML.stringify(edit(sample.value, target.path, () => REMOVE)));
        if (!outcome.ok) {
          expect(outcome.error.message).toContain(String(target.path.at(-1)));
          expect(outcome.error.message).not.toContain(TOKEN);
        }
      }),
      FILE_RUNS,
    );
  });

  it('answers any damage to the text with a value or a ConfigError', () => {
    const text = YAML.stringify(sample.value);
    fc.assert(
      fc.property(fc.array(textEdit, { minLength: 1, maxLength: 4 }), (changes) => {
        read(reader, changes.reduce(applyTextEdit, text));
      }),
      FILE_RUNS,
    );
  });
});

describe('arbitrary text', () => {
  it.each<[string, Reader]>([
    ['parseResources', readResources],
    ['loadBotConfig', readConfig],
  ])('never makes %s throw anything but a ConfigError', (_name, reader) => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.jsonValue({ maxDepth: 3 }).map((v) => YAML.stringify(v)),
        ),
        (text) => {
          read(reader, text);
        },
      ),
      FILE_RUNS,
    );
  });
});
