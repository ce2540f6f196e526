/** The parts of a Teleport identity file, in the order `tsh -i` and Teleport's parser expect. */
export interface IdentityFileParts {
  readonly privateKeyPem: string;
  /** The SSH certificate line; absent for outputs without SSH access (kubernetes). */
  readonly sshCert?: string | undefined;
  readonly tlsCertPem: string;
  /** `@cert-authority` known_hosts lines for the SSH host CA. */
  readonly knownHostsLines: string;
  readonly tlsCaPems: readonly string[];
}

/**
 * Teleport's identity-file layout (api/identityfile): the private key PEM, the SSH certificate line,
 * the TLS certificate PEM, the `@cert-authority` lines, then the TLS CA PEMs. Its reader classifies
 * PEM blocks by position (first key, then certificate, then CAs), so the order matters.
 */
export function renderIdentityFile(parts: IdentityFileParts): string {
  return [
    parts.privateKeyPem,
    parts.sshCert ?? '',
    parts.tlsCertPem,
    parts.knownHostsLines,
    ...parts.tlsCaPems,
  ]
    .filter((part) => part.trim() !== '')
    .map(withNewline)
    .join('');
}

export function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
