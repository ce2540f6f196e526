import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { toYamlText, type YamlData, yamlString } from '../../lib/core/yaml-text.js';

/** Plain data as JSON has it (no undefined), which must come back from the YAML text unchanged. */
const plainData = fc.letrec<{ value: YamlData; list: YamlData[]; mapping: Record<string, YamlData> }>(
  (tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.string({ unit: 'binary' }),
      fc.constantFrom(
        'yes',
        'on',
        'no',
        'null',
        '~',
        '2030-01-01',
        '12:30',
        '0x1f',
        '1e5',
        '.inf',
        'a: b',
        '- a',
      ),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      tie('list'),
      tie('mapping'),
    ),
    list: fc.array(tie('value'), { maxLength: 4 }),
    mapping: fc.dictionary(fc.string({ unit: 'binary' }), tie('value'), { maxKeys: 4 }),
  }),
).value;

describe('toYamlText', () => {
  it('lays out names, URLs and base64 as the yaml package does', () => {
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'example-k8s-cluster',
          cluster: {
            server: 'https://kube.example.com:6443',
            'certificate-authority-data': Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64'),
            'tls-server-name': 'kube.example.internal',
          },
        },
      ],
      contexts: [{ name: 'example-k8s-cluster', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'example-k8s-cluster',
      preferences: {},
      empty: [],
      nested: [['a', 'b'], []],
      flags: { oneshot: true, count: 3, nothing: null },
    };
    expect(toYamlText(kubeconfig)).toBe(stringify(kubeconfig, { indent: 2, lineWidth: 0 }));
  });

  it('leaves out keys whose value is undefined, as the yaml package does', () => {
    const value = { type: 'application', roles: undefined, app_name: 'grafana' };
    expect(toYamlText(value)).toBe(stringify(value, { indent: 2, lineWidth: 0 }));
  });

  it('writes text that YAML 1.2 and YAML 1.1 readers both take back unchanged', () => {
    fc.assert(
      fc.property(plainData, (data) => {
        const text = toYamlText(data);
        expect(parse(text)).toEqual(data);
        expect(parse(text, { version: '1.1' })).toEqual(data);
      }),
      { numRuns: 500 },
    );
  });
});

describe('yamlString', () => {
  it('quotes what a YAML 1.1 reader such as kubectl would take for something else', () => {
    for (const value of [
      'yes',
      'On',
      'NO',
      'y',
      'null',
      '2030-01-01',
      '12:30',
      '1_000',
      '0b1',
      '017',
      '1e5',
    ]) {
      expect(yamlString(value)).toBe(JSON.stringify(value));
    }
  });

  it('leaves names, host names, URLs and base64 plain', () => {
    for (const value of [
      'prod',
      'example-k8s-cluster',
      'kube.example.internal',
      'https://127.0.0.1:6443',
      'LS0tLS1CRUdJTg==',
    ]) {
      expect(yamlString(value)).toBe(value);
    }
  });

  it('escapes every character outside printable ASCII', () => {
    expect(yamlString('a\u2028b\u0085c\ud83d\ude00\n')).toBe('"a\\u2028b\\u0085c\\U0001f600\\n"');
  });
});
