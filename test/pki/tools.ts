import { execFile, execFileSync } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PkiError } from '../../lib/core/errors.js';
import { secureRandom } from '../../lib/core/random.js';
import { parsePrivateKeyPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair, type SIGNATURE_SUITES } from '../../lib/pki/signature-suite.js';
import { issueCertificate } from '../../lib/pki/x509-certificate.js';

/** A temp directory for one test, removed by `cleanup()`. */
export function tempDir(): {
  path: (name: string) => string;
  write: (name: string, content: string | Buffer) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'mid-pki-'));
  return {
    path: (name) => join(dir, name),
    write: (name, content) => {
      const file = join(dir, name);
      writeFileSync(file, content, { mode: 0o600 });
      return file;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs a real tool and returns its stdout. TZ=UTC so that ssh-keygen prints dates in UTC. */
export function run(command: string, args: string[], input?: string | Buffer): string {
  return execFileSync(command, args, {
    input,
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    stdio: ['pipe', 'pipe', 'pipe'],
  }).toString('utf8');
}

/** `run` for binary output. */
export function runBytes(command: string, args: string[], input?: string | Buffer): Buffer {
  return execFileSync(command, args, {
    input,
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Like `run`, but resolves to the exit status and both outputs instead of throwing. */
export function runStatus(
  command: string,
  args: string[],
): { status: number; stdout: string; stderr: string } {
  try {
    return { status: 0, stdout: run(command, args), stderr: '' };
  } catch (error) {
    const failure = error as { status?: number; stdout?: Buffer; stderr?: Buffer };
    return {
      status: failure.status ?? -1,
      stdout: failure.stdout?.toString('utf8') ?? '',
      stderr: failure.stderr?.toString('utf8') ?? '',
    };
  }
}

/** Asynchronous `run`, for tools that talk to a server living in this process. */
export async function runAsync(command: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(command, args, {
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
  });
  return stdout;
}

export function fixtureKey(name: string): KeyObject {
  return parsePrivateKeyPem(readFileSync(new URL(`./fixtures/${name}.pem`, import.meta.url), 'utf8'));
}

/** The `code` of the PkiError that `action` throws, or undefined when it does not throw. */
export function pkiErrorCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof PkiError) return error.code;
    throw error;
  }
  return undefined;
}

/** The CA kinds the pin and SPKI tests cover: each suite's TLS CA key, and an Ed25519 key. */
export type TestCaKind = (typeof SIGNATURE_SUITES)[number] | 'Ed25519';

/** A self-signed CA certificate (PEM) of `kind`, valid through 2030, with its keys. */
export function selfSignedTestCa(kind: TestCaKind, commonName: string) {
  const keys = generateKeyPair(
    kind === 'Ed25519' ? 'balanced' : kind,
    kind === 'Ed25519' ? 'ssh-ca' : 'tls-ca',
  );
  const certificatePem = issueCertificate(
    {
      serial: secureRandom.bytes(16),
      subject: { commonName },
      notBefore: new Date('2030-01-01T00:00:00Z'),
      notAfter: new Date('2031-01-01T00:00:00Z'),
      publicKey: keys.publicKey,
      isCa: true,
      keyUsage: ['keyCertSign'],
    },
    { selfSigned: keys.privateKey },
  );
  return { keys, certificatePem };
}
