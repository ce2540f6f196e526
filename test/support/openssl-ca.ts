import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from './run-command.js';

/** A PEM certificate and its private key, both in memory and on disk. */
export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
  readonly certPath: string;
  readonly keyPath: string;
}

export interface IssueLeafOptions {
  readonly commonName: string;
  /** One `O=` attribute each, in order (Kubernetes reads these as groups). @default [] */
  readonly organizations?: readonly string[];
  /** Sets the extended key usage. */
  readonly usage: 'server' | 'client';
  /** @default [] */
  readonly dnsNames?: readonly string[];
  /** @default [] */
  readonly ipAddresses?: readonly string[];
}

export interface CaOptions {
  /**
   * The CA's key identifier (`AB:CD:…`), which its leaves copy as their authority key identifier.
   * @default the hash of its key, as openssl makes it
   */
  readonly subjectKeyIdentifier?: string;
}

/** A throwaway certificate authority made with the `openssl` CLI, independent of the project's PKI code. */
export interface OpensslCa extends PemPair {
  issue(options: IssueLeafOptions): Promise<PemPair>;
}

/**
 * Creates a P-256 CA in `dir` with the real `openssl` CLI; certificates are valid for one day.
 *
 * @example
 * const ca = await createOpensslCa(dir, 'Test CA');
 * const server = await ca.issue({ commonName: 'localhost', usage: 'server', ipAddresses: ['127.0.0.1'] });
 */
export async function createOpensslCa(
  dir: string,
  commonName: string,
  options: CaOptions = {},
): Promise<OpensslCa> {
  const stem = path.join(dir, fileStem(commonName));
  const certPath = `${stem}.crt`;
  const keyPath = `${stem}.key`;
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-subj',
    subject(commonName, []),
    '-days',
    '1',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    ...(options.subjectKeyIdentifier === undefined
      ? []
      : ['-addext', `subjectKeyIdentifier=${options.subjectKeyIdentifier}`]),
  ]);
  let issued = 0;
  const ca: OpensslCa = {
    certPath,
    keyPath,
    certPem: await readFile(certPath, 'utf8'),
    keyPem: await readFile(keyPath, 'utf8'),
    async issue(options) {
      issued += 1;
      const leafStem = path.join(dir, `${fileStem(options.commonName)}-${issued}`);
      const leafKey = `${leafStem}.key`;
      const leafCert = `${leafStem}.crt`;
      const csr = `${leafStem}.csr`;
      const extFile = `${leafStem}.ext`;
      const altNames = [
        ...(options.dnsNames ?? []).map((name) => `DNS:${name}`),
        ...(options.ipAddresses ?? []).map((ip) => `IP:${ip}`),
      ];
      await writeFile(
        extFile,
        [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature',
          `extendedKeyUsage=${options.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
          'subjectKeyIdentifier=hash',
          'authorityKeyIdentifier=keyid',
          ...(altNames.length > 0 ? [`subjectAltName=${altNames.join(',')}`] : []),
          '',
        ].join('\n'),
      );
      await openssl([
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        leafKey,
        '-out',
        csr,
        '-subj',
        subject(options.commonName, options.organizations ?? []),
      ]);
      await openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        certPath,
        '-CAkey',
        keyPath,
        '-set_serial',
        `0x${randomBytes(16).toString('hex')}`,
        '-days',
        '1',
        '-extfile',
        extFile,
        '-out',
        leafCert,
      ]);
      return {
        certPath: leafCert,
        keyPath: leafKey,
        certPem: await readFile(leafCert, 'utf8'),
        keyPem: await readFile(leafKey, 'utf8'),
      };
    },
  };
  return ca;
}

async function openssl(args: string[]): Promise<void> {
  const result = await runCommand('openssl', args);
  if (result.code !== 0) {
    throw new Error(`openssl ${args[0]} failed (exit ${result.code}): ${result.stderr}`);
  }
}

/** `-subj` syntax: `/CN=a/O=b/O=c`, with `/` and `\` escaped inside values. */
function subject(commonName: string, organizations: readonly string[]): string {
  const escapeValue = (value: string) => value.replace(/[\\/]/g, (c) => `\\${c}`);
  return [`/CN=${escapeValue(commonName)}`, ...organizations.map((o) => `/O=${escapeValue(o)}`)].join('');
}

function fileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9.-]+/g, '_') || 'cert';
}
