import { toYamlText } from '../../core/yaml-text.js';

export interface KubeconfigInput {
  /** The Kubernetes cluster's name; also names the context and the user entry. */
  readonly clusterName: string;
  /** `https://host:port` of the API server. */
  readonly server: string;
  /** PEM of the CA the API server's certificate chains to. */
  readonly caCertPem: string;
  /** SNI / name to check in the server certificate when it differs from the server host. */
  readonly tlsServerName?: string | undefined;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /**
   * A second context for the same cluster and user, under the name tbot gives its context
   * (`<Machine ID cluster>-<Kubernetes cluster>`), so that `kubectl --context` in scripts written for
   * tbot's kubeconfig finds one. The current context keeps the Kubernetes cluster's name.
   */
  readonly tbotContextName?: string | undefined;
}

/**
 * `kubeconfig.yaml` with everything embedded (base64 `*-data` fields): consumers have no agent
 * binary to run as an exec credential plugin, and the file stays valid wherever it is copied. Values a
 * YAML 1.1 reader such as kubectl could take for something else than text are quoted (`toYamlText`).
 */
export function renderKubeconfig(input: KubeconfigInput): string {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const name = input.clusterName;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: input.server,
          'certificate-authority-data': b64(input.caCertPem),
          ...(input.tlsServerName ? { 'tls-server-name': input.tlsServerName } : {}),
        },
      },
    ],
    users: [
      {
        name,
        user: {
          'client-certificate-data': b64(input.clientCertPem),
          'client-key-data': b64(input.clientKeyPem),
        },
      },
    ],
    contexts: [
      { name, context: { cluster: name, user: name } },
      ...(input.tbotContextName === undefined || input.tbotContextName === name
        ? []
        : [{ name: input.tbotContextName, context: { cluster: name, user: name } }]),
    ],
    'current-context': name,
    preferences: {},
  };
  return toYamlText(config);
}
