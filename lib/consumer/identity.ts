import type { X509Certificate } from 'node:crypto';
import { inspect } from 'node:util';
import * as z from 'zod';
import { SECRET_METADATA_KEYS } from '../bot/destinations/secret-value.js';
import { IdentityFormatError, IdentityNotFoundError } from './errors.js';
import { checkTlsKeyPair } from './identity-key-pair.js';
import { type CertificateEnd, sshCertificateEnds } from './identity-ssh-certificates.js';

/**
 * One output of a bot, as the bot last wrote it to its secret: every artifact file's text, the
 * common ones under typed names, and when it was issued and expires.
 *
 * `console.log(identity)` and `JSON.stringify(identity)` show the metadata and the file names only,
 * never the key material; read the fields to get the content.
 *
 * @example
 * const identity = await loadIdentity({ secretId: 'machine-id/ci/grafana' });
 * console.log(`${identity.output} of bot ${identity.bot}, valid until ${identity.expiresAt.toISOString()}`);
 * const agent = createMtlsAgent(identity, { ca: appCaPem });
 */
export interface Identity {
  /** The secret it was read from, as given to the loader. */
  readonly secretId: string;
  readonly bot: string;
  /** The output's name in the bot's logs, e.g. `application grafana`. */
  readonly output: string;
  /** Serial of the output's certificate. */
  readonly serial: string;
  readonly issuedAt: Date;
  /**
   * `expires_at`, or the end of a certificate's validity when that is earlier (the notAfter of
   * `tlscert`, the valid_before of `key-cert.pub` or `ssh_host-cert.pub`): the loader never serves it
   * past this.
   */
  readonly expiresAt: Date;
  /** Every artifact by its file name (`tlscert`, `key`, `ssh_config`, `kubeconfig.yaml`, ...). */
  readonly files: Readonly<Record<string, string>>;
  /** `tlscert`: the PEM client certificate. */
  readonly tlsCert?: string;
  /** `key`: the PEM private key (of both the TLS and the SSH certificate). */
  readonly key?: string;
  /** `tlscacerts`: the cluster's TLS user CA certificates, PEM. */
  readonly tlsCaCerts?: string;
  /** `key-cert.pub`: the OpenSSH user certificate. */
  readonly sshCert?: string;
  /** `kubeconfig.yaml`, with the credentials embedded. */
  readonly kubeconfig?: string;
}

const TYPED_FIELDS = {
  tlsCert: 'tlscert',
  key: 'key',
  tlsCaCerts: 'tlscacerts',
  sshCert: 'key-cert.pub',
  kubeconfig: 'kubeconfig.yaml',
} as const;

const text = (what: string) =>
  z
    .string({ error: `expected ${what} as a string` })
    .min(1, { error: `expected ${what}, got an empty string` });
/** As midbot writes it (`toISOString`): a date, a time and a zone, so that no reader guesses the zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const time = (what: string) =>
  text(what).refine((value) => ISO_TIME.test(value) && !Number.isNaN(Date.parse(value)), {
    error: `expected ${what} as an ISO 8601 time with its zone (e.g. 2030-01-01T00:00:00.000Z)`,
  });

/**
 * What the typed artifacts start like when present: PEM of the right kind. An empty or foreign value
 * is refused here, with the key's name, instead of failing later in a TLS handshake.
 */
const PEM_SHAPES: Readonly<Record<string, RegExp>> = {
  tlscert: /-----BEGIN CERTIFICATE-----/,
  tlscacerts: /-----BEGIN CERTIFICATE-----/,
  key: /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
};

// Issue messages are written here, never zod's defaults, so that no message can quote a value.
const secretValueSchema = z
  .object(
    {
      expires_at: time('the expiry time'),
      issued_at: time('the issue time'),
      bot: text('the bot name'),
      output: text('the output name'),
      serial: text('the certificate serial'),
    },
    { error: 'expected a JSON object' },
  )
  .catchall(z.string({ error: 'expected every artifact as a string' }));

/**
 * Parses a secret value the bot wrote (DESIGN, Artifacts: a flat JSON object of file names and
 * `expires_at`, `issued_at`, `bot`, `output`, `serial`) into an {@link Identity}. Checks the format,
 * not the expiry: the loader decides what to do with an expired one. When present, `tlscert` must be
 * a certificate OpenSSL can read, `key` a private key it can read, and `key` the private key of
 * `tlscert`; `key-cert.pub` and `ssh_host-cert.pub` must be OpenSSH certificates, whose valid_before
 * caps `expiresAt` as `tlscert`'s notAfter does.
 *
 * @throws {@link IdentityFormatError} when the value is not that object, or its `tlscert` and `key`
 * are not a usable pair; the message names the key, never a value.
 *
 * @example
 * const identity = parseIdentity(secretString, 'machine-id/ci/identity');
 */
export function parseIdentity(secretString: string, secretId: string): Identity {
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch (error) {
    // Not the SyntaxError itself as the cause: V8's message quotes a piece of the input.
    throw new IdentityFormatError(
      `secret ${secretId} is not JSON; it was not written by midbot's aws_secrets_manager destination`,
      { cause: error instanceof Error ? new Error(error.name) : undefined, secretId },
    );
  }
  // The MachineIdBot construct creates each output's secret with this placeholder; the bot's first
  // run replaces it. Until then there is nothing to read, which is "not found", not "malformed".
  if (
    typeof json === 'object' &&
    json !== null &&
    (json as { uninitialised?: unknown }).uninitialised === true
  ) {
    throw new IdentityNotFoundError(
      `secret ${secretId} holds no identity yet: the bot has not run since it was deployed (it runs on its schedule, or now with \`aws lambda invoke\`)`,
      { secretId },
    );
  }
  const parsed = secretValueSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `key ${JSON.stringify(String(issue.path[0]))}: ` : '';
    throw new IdentityFormatError(
      `secret ${secretId} is not a midbot identity: ${where}${issue?.message ?? 'unexpected shape'}`,
      { secretId },
    );
  }
  const value = parsed.data;
  const issuedAt = new Date(value.issued_at);
  if (Date.parse(value.expires_at) <= issuedAt.getTime()) {
    throw new IdentityFormatError(
      `secret ${secretId}: expires_at ${value.expires_at} is not after issued_at ${value.issued_at}`,
      { secretId },
    );
  }
  // fromEntries defines own properties, so even a key named `__proto__` stays a plain entry.
  const files: Record<string, string> = Object.fromEntries(
    Object.entries(value).filter(([name]) => !(SECRET_METADATA_KEYS as readonly string[]).includes(name)),
  );
  for (const [fileName, shape] of Object.entries(PEM_SHAPES)) {
    const content = files[fileName];
    if (content !== undefined && !shape.test(content)) {
      throw new IdentityFormatError(
        `secret ${secretId} is not a midbot identity: key ${JSON.stringify(fileName)}: expected a PEM ${fileName === 'key' ? 'private key' : 'certificate'}`,
        { secretId },
      );
    }
  }
  const certificateEnds = [
    ...tlsCertificateEnd(checkTlsKeyPair(files, secretId)),
    ...sshCertificateEnds(files, secretId),
  ];
  for (const end of certificateEnds) {
    if (end.validBefore.getTime() <= issuedAt.getTime()) {
      throw new IdentityFormatError(
        `secret ${secretId}: key ${JSON.stringify(end.file)}: the certificate expires at ${end.validBefore.toISOString()}, not after issued_at ${value.issued_at}; let the bot write the secret again`,
        { secretId },
      );
    }
  }
  const expiresAt = expiryOf(value.expires_at, certificateEnds);
  const typed: Record<string, string> = {};
  for (const [field, fileName] of Object.entries(TYPED_FIELDS)) {
    const content = files[fileName];
    if (content !== undefined) typed[field] = content;
  }
  return redacted({
    secretId,
    bot: value.bot,
    output: value.output,
    serial: value.serial,
    issuedAt,
    expiresAt,
    files: Object.freeze(files),
    ...typed,
  });
}

/**
 * The earliest of `expires_at` and the certificates' ends. midbot writes them equal, but a value whose
 * `expires_at` runs later (an older bot's was up to a second late; a value written by hand) must not
 * have the loader serve a certificate every server already refuses.
 */
function expiryOf(expiresAt: string, certificateEnds: readonly CertificateEnd[]): Date {
  return new Date(
    Math.min(Date.parse(expiresAt), ...certificateEnds.map((end) => end.validBefore.getTime())),
  );
}

/** The notAfter of `tlscert`, as a certificate end; none when there is no `tlscert`. */
function tlsCertificateEnd(certificate: X509Certificate | undefined): CertificateEnd[] {
  const notAfter = certificate === undefined ? Number.NaN : Date.parse(certificate.validTo);
  return Number.isNaN(notAfter) ? [] : [{ file: 'tlscert', validBefore: new Date(notAfter) }];
}

/** What `toJSON` and `util.inspect` show of an identity: no file content. */
function summary(identity: Identity) {
  return {
    secretId: identity.secretId,
    bot: identity.bot,
    output: identity.output,
    serial: identity.serial,
    issuedAt: identity.issuedAt.toISOString(),
    expiresAt: identity.expiresAt.toISOString(),
    files: Object.keys(identity.files).sort(),
  };
}

// Identities end up in log lines by accident (`logger.info({ identity })`); a private key must not.
function redacted(identity: Identity): Identity {
  Object.defineProperty(identity, 'toJSON', { value: () => summary(identity), enumerable: false });
  Object.defineProperty(identity, inspect.custom, {
    value: () => ({ ...summary(identity), content: '[redacted]' }),
    enumerable: false,
  });
  return Object.freeze(identity);
}
