import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface StartKubeApiStandInOptions {
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  /** Like kube-apiserver's `--client-ca-file`: client certificates issued by this CA authenticate. */
  readonly clientCaPem: string;
  /** Users (certificate CN) allowed to read pods. @default see `allowedGroups` */
  readonly allowedUsers?: readonly string[];
  /**
   * Groups (certificate O attributes) allowed to read pods. When neither `allowedUsers` nor `allowedGroups`
   * is given, every authenticated client may. @default see above
   */
  readonly allowedGroups?: readonly string[];
  /** Names of the pods every namespace holds. @default ['mid-e2e-pod'] */
  readonly podNames?: readonly string[];
}

export interface KubeApiRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: string;
  readonly accept: string;
  /** Certificate CN, or `null` when no trusted client certificate was presented. */
  readonly user: string | null;
  /** Certificate O attributes plus `system:authenticated`, as kube-apiserver reports them. */
  readonly groups: readonly string[];
  readonly status: number;
}

export interface KubeApiStandIn {
  readonly url: string;
  readonly port: number;
  /** Every request, in order. */
  readonly requests: readonly KubeApiRequest[];
  stop(): Promise<void>;
}

/** The Kubernetes version the stand-in reports at `/version`. */
export const KUBE_STAND_IN_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.4' } as const;

const TABLE_MEDIA = /(?:^|[,;\s])as=Table(?:[;,\s]|$)/;

/**
 * An HTTPS stand-in for a Kubernetes API server on 127.0.0.1 (a free port), enough for
 * `kubectl get pods -n NS` (table, `-o json`, `-o name`) and `kubectl get pod NAME`.
 *
 * Authentication works as kube-apiserver's with `--client-ca-file` and `--anonymous-auth=false`: a client
 * certificate verified against `clientCaPem` makes its CN the user and its O attributes the groups;
 * anything else gets 401. Discovery (`/version`, `/api`, `/api/v1`, `/apis`) is open to every
 * authenticated user, as RBAC's `system:discovery` role makes it; pods only to `allowedUsers` /
 * `allowedGroups`, others get a 403 `Status` that kubectl prints as `Error from server (Forbidden)`.
 *
 * @example
 * const kube = await startKubeApiStandIn({ serverCertPem, serverKeyPem, clientCaPem, allowedGroups: ['ops'] });
 * // kubectl --kubeconfig K get pods -n default  →  lists 'mid-e2e-pod'
 */
export async function startKubeApiStandIn(options: StartKubeApiStandInOptions): Promise<KubeApiStandIn> {
  const requests: KubeApiRequest[] = [];
  const podNames = options.podNames ?? ['mid-e2e-pod'];
  const startedAt = new Date();
  const restricted = options.allowedUsers !== undefined || options.allowedGroups !== undefined;
  let serverAddress = '';

  /** Decides the answer; `send` below writes and records it. */
  const respond = (req: IncomingMessage, url: URL, identity: Identity | undefined): Answer => {
    if (!identity) return { code: 401, body: status(401, 'Unauthorized', 'Unauthorized') };
    if (req.method !== 'GET') {
      return { code: 405, body: status(405, 'MethodNotAllowed', 'the stand-in only serves GET') };
    }
    const path = url.pathname.replace(/\/+$/, '') || '/';

    const discovery = discoveryDocument(path, serverAddress);
    if (discovery) return { code: 200, body: discovery };

    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/.exec(path);
    if (!match) {
      return { code: 404, body: status(404, 'NotFound', 'the server could not find the requested resource') };
    }
    const namespace = decodeURIComponent(match[1] ?? '');
    const name = match[2] === undefined ? undefined : decodeURIComponent(match[2]);

    const allowed =
      !restricted ||
      (options.allowedUsers ?? []).includes(identity.user) ||
      identity.groups.some((group) => (options.allowedGroups ?? []).includes(group));
    if (!allowed) {
      const verb = name === undefined ? 'list' : 'get';
      const message =
        `pods${name === undefined ? '' : ` "${name}"`} is forbidden: User "${identity.user}" cannot ${verb} ` +
        `resource "pods" in API group "" in the namespace "${namespace}"`;
      return { code: 403, body: { ...status(403, 'Forbidden', message), details: { name, kind: 'pods' } } };
    }

    const pods = podNames
      .filter((podName) => name === undefined || podName === name)
      .map((podName) => pod(podName, namespace, startedAt));
    if (name !== undefined && pods.length === 0) {
      const notFound = status(404, 'NotFound', `pods "${name}" not found`);
      return { code: 404, body: { ...notFound, details: { name, kind: 'pods' } } };
    }
    if (TABLE_MEDIA.test(req.headers.accept ?? '')) return { code: 200, body: podTable(pods, startedAt) };
    if (name !== undefined) return { code: 200, body: pods[0] };
    return {
      code: 200,
      body: { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: pods },
    };
  };

  const send = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'https://stand-in');
    const socket = req.socket as TLSSocket;
    const identity = socket.authorized ? identify(socket.getPeerCertificate()) : undefined;
    const { code, body } = respond(req, url, identity);
    res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
    res.end(`${JSON.stringify(body)}\n`);
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      accept: req.headers.accept ?? '',
      user: identity?.user ?? null,
      groups: identity?.groups ?? [],
      status: code,
    });
  };

  const server = https.createServer(
    {
      cert: options.serverCertPem,
      key: options.serverKeyPem,
      ca: options.clientCaPem,
      requestCert: true,
      // Like kube-apiserver: the handshake succeeds without a (trusted) certificate, the request gets 401.
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    (req, res) => {
      req.resume();
      send(req, res);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  serverAddress = `127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    requests,
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

interface Identity {
  readonly user: string;
  readonly groups: readonly string[];
}

interface Answer {
  readonly code: number;
  readonly body: unknown;
}

function identify(certificate: PeerCertificate): Identity | undefined {
  const names = (value: unknown): string[] =>
    Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  const user = names(certificate.subject?.CN)[0];
  if (!user) return undefined;
  return { user, groups: [...names(certificate.subject?.O), 'system:authenticated'] };
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function discoveryDocument(path: string, serverAddress: string): unknown {
  switch (path) {
    case '/version':
      return {
        ...KUBE_STAND_IN_VERSION,
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2025-01-01T00:00:00Z',
        goVersion: 'go1.23.0',
        compiler: 'gc',
        platform: 'linux/amd64',
      };
    case '/api':
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
      };
    case '/apis':
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
    case '/api/v1':
      return {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          {
            name: 'namespaces',
            singularName: 'namespace',
            namespaced: false,
            kind: 'Namespace',
            verbs: ['get', 'list'],
            shortNames: ['ns'],
          },
          {
            name: 'pods',
            singularName: 'pod',
            namespaced: true,
            kind: 'Pod',
            verbs: ['get', 'list'],
            shortNames: ['po'],
            categories: ['all'],
          },
        ],
      };
    default:
      return undefined;
  }
}

function pod(name: string, namespace: string, startedAt: Date) {
  const created = startedAt.toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name,
      namespace,
      uid: '00000000-0000-4000-8000-000000000001',
      resourceVersion: '1',
      creationTimestamp: created,
      labels: { app: name },
    },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }], nodeName: 'node-1' },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: created }],
      containerStatuses: [
        {
          name: 'app',
          ready: true,
          started: true,
          restartCount: 0,
          image: 'registry.example/app:1',
          imageID: '',
          state: { running: { startedAt: created } },
        },
      ],
      podIP: '10.0.0.10',
      hostIP: '10.0.0.1',
      startTime: created,
    },
  };
}

/** The server-side table kubectl asks for (`as=Table`), with the columns kube-apiserver prints for pods. */
function podTable(pods: ReturnType<typeof pod>[], startedAt: Date) {
  const ageSeconds = Math.max(0, Math.floor((Date.now() - startedAt.getTime()) / 1000));
  const column = (name: string, type: string, description: string, priority = 0, format = '') => ({
    name,
    type,
    format,
    description,
    priority,
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: '1' },
    columnDefinitions: [
      column('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
      column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      column('Status', 'string', 'The aggregate status of the containers in this pod.'),
      column('Restarts', 'string', 'The number of times the containers in this pod have been restarted.'),
      column('Age', 'string', 'CreationTimestamp is when this object was created.'),
      column('IP', 'string', 'IP address allocated to the pod.', 1),
      column('Node', 'string', 'Name of the Node this pod is assigned to.', 1),
    ],
    rows: pods.map((p) => ({
      cells: [p.metadata.name, '1/1', 'Running', '0', `${ageSeconds}s`, p.status.podIP, p.spec.nodeName],
      object: {
        kind: 'PartialObjectMetadata',
        apiVersion: 'meta.k8s.io/v1',
        metadata: p.metadata,
      },
    })),
  };
}
