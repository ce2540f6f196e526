import type { OutputKind } from '../../api/output-certificates.js';

/**
 * The names of the files an output of `kind` writes, known before anything is issued: midbot checks
 * an output's folder with them before a join spends its token (a file of someone else's at one of
 * these names would be refused only at the write). The renderers write exactly these; a test holds
 * the two together.
 */
export function artifactNames(kind: OutputKind, options: { specificTlsNaming?: boolean } = {}): string[] {
  switch (kind) {
    case 'identity':
      return [
        'identity',
        'key',
        'key.pub',
        'key-cert.pub',
        'tlscert',
        'tlscacerts',
        'sshcacerts',
        'known_hosts',
        'ssh_config',
      ];
    case 'application':
      return [
        'tlscert',
        'key',
        'tlscacerts',
        ...(options.specificTlsNaming ? ['tls.crt', 'tls.key', 'tls.cas'] : []),
      ];
    case 'kubernetes':
      return ['kubeconfig.yaml', 'tlscert', 'key', 'tlscacerts', 'identity'];
    case 'ssh_host':
      return ['ssh_host', 'ssh_host-cert.pub', 'ssh_host-user-ca.pub'];
  }
}

/** Every name an output of any kind may write: what midbot may ever remove from an output's folder. */
export const ALL_ARTIFACT_NAMES: ReadonlySet<string> = new Set(
  (['identity', 'application', 'kubernetes', 'ssh_host'] as const).flatMap((kind) =>
    artifactNames(kind, { specificTlsNaming: true }),
  ),
);
