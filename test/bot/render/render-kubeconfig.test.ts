import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type KubeconfigInput, renderKubeconfig } from '../../../lib/bot/render/render-kubeconfig.js';

const input: KubeconfigInput = {
  clusterName: 'example-k8s-cluster',
  server: 'https://127.0.0.1:6443',
  caCertPem: '-----BEGIN CERTIFICATE-----\nMIIBkDCCATWg\n-----END CERTIFICATE-----\n',
  tlsServerName: 'kube.example.internal',
  clientCertPem: '-----BEGIN CERTIFICATE-----\nMIIBfzCCASSg\n-----END CERTIFICATE-----\n',
  clientKeyPem: '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n',
};

/** The document the kubeconfig holds, as kubectl reads it. */
function kubeconfigOf(of: KubeconfigInput) {
  const data = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const name = of.clusterName;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: of.server,
          'certificate-authority-data': data(of.caCertPem),
          ...(of.tlsServerName ? { 'tls-server-name': of.tlsServerName } : {}),
        },
      },
    ],
    users: [
      {
        name,
        user: { 'client-certificate-data': data(of.clientCertPem), 'client-key-data': data(of.clientKeyPem) },
      },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    preferences: {},
  };
}

describe('renderKubeconfig', () => {
  it('writes the text the yaml package writes for the same document', () => {
    expect(renderKubeconfig(input)).toBe(stringify(kubeconfigOf(input), { indent: 2, lineWidth: 0 }));
    const { tlsServerName: _, ...withoutName } = input;
    expect(renderKubeconfig(withoutName)).toBe(
      stringify(kubeconfigOf(withoutName), { indent: 2, lineWidth: 0 }),
    );
  });

  it('quotes a cluster name that YAML 1.1, as kubectl reads it, would take for something else', () => {
    for (const clusterName of ['yes', 'on', '1234', '2030-01-01']) {
      const text = renderKubeconfig({ ...input, clusterName });
      expect(text).toContain(`current-context: "${clusterName}"`);
      expect(parse(text, { version: '1.1' })).toEqual(kubeconfigOf({ ...input, clusterName }));
    }
  });
});
