/** The key pair the bot generated for one output; the auth service certified its public half. */
export interface OutputKeys {
  /** PKCS#8 or traditional PEM (ECDSA or RSA, which OpenSSH, OpenSSL and kubectl all read). */
  readonly privateKeyPem: string;
  /** The public key as one OpenSSH line (`ecdsa-sha2-nistp256 AAAA...`). */
  readonly sshPublicKey: string;
}

export interface RenderOptions {
  /**
   * Absolute folder the files will be read from, written into ssh_config (identity output). For a
   * directory destination, its path; for other destinations, the folder the consumer recreates.
   */
  readonly artifactDir?: string;
  /** application output: also write `tls.crt`, `tls.key`, `tls.cas`. @default false */
  readonly specificTlsNaming?: boolean;
}
