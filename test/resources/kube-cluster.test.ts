import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseResource } from '../../lib/resources/resource.js';
import { configErrorOf, withField } from './helpers.js';

const caPem = readFileSync(new URL('./fixtures/kube-ca.pem', import.meta.url), 'utf8');

const cluster = {
  kind: 'kube_cluster',
  version: 'v3',
  metadata: { name: 'example-k8s-cluster', labels: { env: 'staging' } },
  spec: { api_server: 'https://10.0.0.1:6443', ca_cert: caPem, tls_server_name: 'kubernetes.default.svc' },
};

const errorOf = (doc: unknown) => configErrorOf(() => parseResource(doc));

describe('kube_cluster', () => {
  it('reads every supported field', () => {
    expect(parseResource(cluster)).toEqual(cluster);
  });

  it('accepts a bundle of several CA certificates', () => {
    expect(parseResource(withField(cluster, 'spec.ca_cert', `${caPem}${caPem}`))).toBeTruthy();
  });

  it('refuses an API server that is not https', () => {
    expect(errorOf(withField(cluster, 'spec.api_server', 'http://10.0.0.1:6443'))).toContain(
      'kube_cluster "example-k8s-cluster": spec.api_server: got "http://10.0.0.1:6443", the scheme must be https, e.g. https://kube.example.com:6443',
    );
  });

  it.each([
    ['no PEM at all', 'not a certificate', 'no PEM certificate found'],
    [
      'a corrupted certificate',
      caPem.replace(/MII[A-Za-z0-9]{4}/, 'MIIAAAA'),
      'PEM block 1 is not a valid X.509 certificate',
    ],
    [
      'a truncated certificate',
      `-----BEGIN CERTIFICATE-----\nMIIBhjCCAS2gAwIBAgIU\n-----END CERTIFICATE-----\n`,
      'PEM block 1 is not a valid X.509 certificate',
    ],
    ['text around the PEM', `${caPem}\nextra`, 'there is text outside the PEM blocks'],
    [
      'a public key',
      '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n',
      'PEM block 1 is a PUBLIC KEY, not a CERTIFICATE',
    ],
  ])('refuses a ca_cert with %s', (_, pem, reason) => {
    expect(errorOf(withField(cluster, 'spec.ca_cert', pem))).toContain(
      `spec.ca_cert: got (value hidden), ${reason}`,
    );
  });

  it('refuses a private key pasted as ca_cert without echoing any of it', () => {
    const key =
      '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';
    const message = errorOf(withField(cluster, 'spec.ca_cert', key));
    expect(message).toContain(
      'PEM block 1 is a PRIVATE KEY, not a CERTIFICATE (never share a private key; replace it now if it was)',
    );
    expect(message).not.toContain('MIGHAgEA');
  });

  it('refuses a bad tls_server_name and an unknown key', () => {
    expect(errorOf(withField(cluster, 'spec.tls_server_name', 'kube api'))).toContain(
      'spec.tls_server_name: got "kube api", expected a host name',
    );
    expect(errorOf(withField(cluster, 'spec.insecure_skip_tls_verify', true))).toContain(
      'spec: unknown key "insecure_skip_tls_verify"',
    );
  });

  it('refuses a missing ca_cert', () => {
    expect(errorOf(withField(cluster, 'spec.ca_cert', undefined))).toContain(
      'spec.ca_cert: got nothing, expected a string',
    );
  });
});
