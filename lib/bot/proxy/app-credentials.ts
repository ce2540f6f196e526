import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../core/clock.js';
import { MidError } from '../../core/errors.js';
import { readProblemOf, readSmallFile } from '../../core/read-small-file.js';

/** The certificate and key of an application output, as a TLS client presents them. */
export interface AppCredential {
  readonly certPem: string;
  readonly keyPem: string;
  readonly serial: string;
  readonly expiresAt: Date;
}

/** The file names an application output always writes (tbot's), whatever its `specific_tls_naming`. */
const CERT_FILE = 'tlscert';
const KEY_FILE = 'key';
/** Certificates and keys are a few KiB; anything larger is not one. */
const MAX_FILE_BYTES = 64 * 1024;

/**
 * Why an application output's folder cannot be used. `retryable` problems may pass on their own
 * (a renewal half written, a certificate `midbot start` has not renewed yet); the others need the user.
 */
export class AppCredentialError extends MidError {
  readonly retryable: boolean;

  constructor(code: string, message: string, retryable: boolean) {
    super(code, message);
    this.retryable = retryable;
  }
}

/**
 * The certificate of one app in the folder an application output writes, read again whenever
 * `midbot start` has renewed it: a long-running `midbot proxy` keeps working across renewals, which
 * replace the certificate and give it a fresh key every `renewal_interval`.
 *
 * Each call of {@link current} stats the two files (cheap) and reads them only when they changed. A
 * renewal replaces `tlscert` and `key` one after the other, so a read can see a new certificate with
 * the old key: such a pair is not taken, and the last good one is kept while it is valid.
 */
export class AppCredentialsFolder {
  private loaded: { stamp: string; credential: AppCredential } | undefined;

  constructor(
    readonly folder: string,
    readonly appName: string,
    private readonly clock: Clock,
  ) {}

  /**
   * The credential to present now.
   * @throws AppCredentialError when the folder has none for this app that is valid now
   */
  current(): AppCredential {
    const credential = this.reloaded();
    if (this.expired(credential)) {
      throw new AppCredentialError(
        'certificate_expired',
        `the certificate for app "${this.appName}" in ${this.folder} expired at ${credential.expiresAt.toISOString()}; \`midbot start\` renews it every renewal_interval: check that it is running and can reach the auth service`,
        true,
      );
    }
    return credential;
  }

  /** The credential in the files now, or the last good one while the files are between two renewals. */
  private reloaded(): AppCredential {
    const stamp = this.stamp();
    const loaded = this.loaded;
    if (loaded?.stamp === stamp) return loaded.credential;
    try {
      const credential = this.read();
      this.loaded = { stamp, credential };
      return credential;
    } catch (error) {
      const passing = error instanceof AppCredentialError && error.retryable;
      if (loaded === undefined || !passing || this.expired(loaded.credential)) throw error;
      return loaded.credential;
    }
  }

  private expired(credential: AppCredential): boolean {
    return credential.expiresAt.getTime() <= this.clock.now();
  }

  /** What changes when either file is replaced (a rename gives a new inode). */
  private stamp(): string {
    return [CERT_FILE, KEY_FILE]
      .map((name) => {
        try {
          const stats = statSync(path.join(this.folder, name));
          return `${stats.ino}:${stats.mtimeMs}:${stats.size}`;
        } catch {
          return 'none';
        }
      })
      .join('/');
  }

  private read(): AppCredential {
    const certPem = this.readFile(CERT_FILE);
    const keyPem = this.readFile(KEY_FILE);
    let certificate: X509Certificate;
    let key: KeyObject;
    try {
      certificate = new X509Certificate(certPem);
      key = createPrivateKey(keyPem);
    } catch {
      throw new AppCredentialError(
        'unreadable_credential',
        `${this.folder}: ${CERT_FILE} or ${KEY_FILE} is not a PEM certificate and key; is this the folder of an application output? \`midbot start\` writes them`,
        true,
      );
    }
    const apps = appNamesIn(certificate);
    if (!apps.includes(this.appName)) {
      const holds =
        apps.length === 0
          ? 'a certificate for no app (the folder of an identity or kubernetes output?)'
          : `the certificate of app ${apps.map((app) => `"${app}"`).join(', ')}`;
      throw new AppCredentialError(
        'wrong_app',
        `${this.folder} holds ${holds}, not one for app "${this.appName}"; give the folder of an application output with app_name: ${this.appName}`,
        false,
      );
    }
    if (!certificate.checkPrivateKey(key)) {
      throw new AppCredentialError(
        'certificate_key_mismatch',
        `${this.folder}: ${KEY_FILE} is not the key of ${CERT_FILE} (a renewal half written?); \`midbot start\` writes both again at its next run`,
        true,
      );
    }
    return {
      certPem,
      keyPem,
      serial: certificate.serialNumber.toLowerCase(),
      expiresAt: new Date(certificate.validTo),
    };
  }

  private readFile(name: string): string {
    const file = path.join(this.folder, name);
    try {
      return readSmallFile(file, MAX_FILE_BYTES, { followSymlinks: false });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const problem = readProblemOf(error);
      const advice =
        code === 'ELOOP'
          ? 'is a symlink, which midbot never writes there (someone else put it there?); it is not read: remove it and let `midbot start` write the file again'
          : problem === 'missing'
            ? `no such file; run \`midbot start\` with an application output for app "${this.appName}" writing to ${this.folder} first`
            : problem === 'other'
              ? `cannot read it (${code ?? (error as Error).message}); run midbot proxy as a user that may read the output (the reader user of \`midbot init\`)`
              : 'is not a certificate file midbot wrote';
      throw new AppCredentialError(
        'unreadable_credential',
        `${file}: ${advice}`,
        problem === 'missing' && code !== 'ELOOP',
      );
    }
  }
}

/** The apps a certificate is for: the names in its `mid://<cluster>/apps/<name>` SAN URIs. */
function appNamesIn(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .map((entry) => /^URI:mid:\/\/[^/]+\/apps\/([^/]+)$/.exec(entry)?.[1])
    .filter((name): name is string => name !== undefined);
}
