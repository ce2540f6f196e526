import { parseSshCertificate } from '../pki/ssh-certificate.js';
import { IdentityFormatError } from './errors.js';

/**
 * The OpenSSH certificates an output may carry: the user certificate of an identity output and the
 * host certificate of an `ssh_host` output.
 */
const SSH_CERTIFICATE_FILES = ['key-cert.pub', 'ssh_host-cert.pub'] as const;

/** One certificate's end of validity, with the key of the secret it came from. */
export interface CertificateEnd {
  readonly file: string;
  readonly validBefore: Date;
}

/**
 * The `valid_before` of each OpenSSH certificate of an identity, read the way sshd will read it: OpenSSH
 * refuses a certificate from that second on, whatever `expires_at` says. A certificate that cannot be
 * read is refused here, naming the key, instead of failing later in an ssh handshake.
 *
 * @throws {@link IdentityFormatError} naming the secret and the key at fault, never a value.
 */
export function sshCertificateEnds(
  files: Readonly<Record<string, string>>,
  secretId: string,
): CertificateEnd[] {
  const ends: CertificateEnd[] = [];
  for (const file of SSH_CERTIFICATE_FILES) {
    const line = files[file];
    if (line === undefined) continue;
    let validBefore: Date;
    try {
      validBefore = parseSshCertificate(line).validBefore;
    } catch (error) {
      // The parser's messages describe the failure, never quote the line.
      throw new IdentityFormatError(
        `secret ${secretId} is not a midbot identity: key ${JSON.stringify(file)}: expected an OpenSSH certificate, but it cannot be read as one (${codeOf(error)}); let the bot write the secret again (it runs on its schedule, or now with \`aws lambda invoke\`)`,
        { cause: error, secretId },
      );
    }
    ends.push({ file, validBefore });
  }
  return ends;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'no error code';
}
