import { renderTable } from '../cli/table.js';
import type { ResourceJson } from './admin-api.js';
import { instanceStatus } from './instance-status.js';

type Json = Record<string, unknown>;

function labels(value: unknown): string {
  if (value === undefined || value === null) return '';
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1 && entries[0]?.[0] === '*' && entries[0]?.[1] === '*') return '<all>';
  return entries.map(([key, v]) => `${key}=${Array.isArray(v) ? v.join('|') : String(v)}`).join(',');
}

function list(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : '';
}

function spec(resource: ResourceJson): Json {
  return (resource['spec'] ?? {}) as Json;
}

function allow(resource: ResourceJson): Json {
  return (spec(resource)['allow'] ?? {}) as Json;
}

/**
 * When a token expires, marked once it has: an expired token stays listed until removed (`tokens rm`),
 * and joins with it are refused.
 */
function tokenExpiry(expires: unknown, now: number): string {
  if (typeof expires !== 'string') return 'never';
  return Date.parse(expires) <= now ? `${expires} (expired)` : expires;
}

/** Column layouts for `--format text`, one per kind, modelled on tctl's. */
const LAYOUTS: Record<string, { headers: string[]; row: (resource: ResourceJson, now: number) => string[] }> =
  {
    role: {
      headers: ['Role', 'Allowed to login as', 'Node Labels', 'App Labels', 'Kubernetes Labels'],
      row: (r) => [
        r.metadata.name,
        list(allow(r)['logins']),
        labels(allow(r)['node_labels']),
        labels(allow(r)['app_labels']),
        labels(allow(r)['kubernetes_labels']),
      ],
    },
    bot: {
      headers: ['Bot', 'Roles', 'Logins', 'Locked'],
      row: (r) => {
        const traits = (spec(r)['traits'] ?? []) as Array<{ name: string; values: string[] }>;
        return [
          r.metadata.name,
          list(spec(r)['roles']),
          traits.find((t) => t.name === 'logins')?.values.join(',') ?? '',
          botLockText(r),
        ];
      },
    },
    token: {
      headers: ['Token', 'Type', 'Join Method', 'Bot', 'Expires'],
      row: (r, now) => [
        r.metadata.name,
        list(spec(r)['roles']),
        String(spec(r)['join_method']),
        String(spec(r)['bot_name']),
        tokenExpiry(r.metadata['expires'], now),
      ],
    },
    app: {
      headers: ['Application', 'URI', 'Public Address', 'Labels'],
      row: (r) => [
        r.metadata.name,
        String(spec(r)['uri']),
        String(spec(r)['public_addr'] ?? ''),
        labels(r.metadata['labels']),
      ],
    },
    kube_cluster: {
      headers: ['Kube Cluster', 'API Server', 'Labels'],
      row: (r) => [r.metadata.name, String(spec(r)['api_server']), labels(r.metadata['labels'])],
    },
    node: {
      headers: ['Node', 'Hostname', 'Address', 'Labels'],
      row: (r) => [
        r.metadata.name,
        String(spec(r)['hostname']),
        String(spec(r)['addr']),
        labels(r.metadata['labels']),
      ],
    },
    bot_instance: {
      headers: ['Bot', 'Instance ID', 'Join Method', 'Joined', 'Generation', 'Last Heartbeat', 'Status'],
      row: (r, now) => {
        const status = (r['status'] ?? {}) as Json;
        const heartbeats = (status['latest_heartbeats'] ?? []) as Array<{ recorded_at: string }>;
        return [
          String(spec(r)['bot_name']),
          r.metadata.name,
          String(status['join_method']),
          String(status['created_at']),
          String(status['generation']),
          heartbeats.at(-1)?.recorded_at ?? 'never',
          instanceStatus(status, now),
        ];
      },
    },
  };

/** `yes`, `until TIME` or nothing: a bot's lock as `bots ls` shows it (`midctl lock bot/NAME`). */
function botLockText(r: ResourceJson): string {
  const locked = (r['status'] as { locked?: { expires?: string } } | undefined)?.locked;
  if (locked === undefined) return '';
  return locked.expires === undefined ? 'yes' : `until ${locked.expires}`;
}

/** `now` decides which bot instances show as expired. */
export function renderResourceTable(
  kind: string,
  resources: readonly ResourceJson[],
  now = Date.now(),
): string {
  const layout = LAYOUTS[kind];
  if (layout === undefined) return resources.map((r) => `${r.kind}/${r.metadata.name}`).join('\n') + '\n';
  return renderTable(
    layout.headers,
    resources.map((resource) => layout.row(resource, now)),
  );
}

/**
 * The kind whose `--format text` table `text` starts with (its header row, then the dashed rule), if
 * it is one: such a file was exported in the wrong format, and `create -f` can say so.
 */
export function textTableKind(text: string): string | undefined {
  const [header = '', rule = ''] = text.split(/\r?\n/, 2);
  if (!/^-+( +-+)+$/.test(rule.trim())) return undefined;
  const columns = header.trim().replace(/ +/g, ' ');
  return Object.entries(LAYOUTS).find(([, layout]) => layout.headers.join(' ') === columns)?.[0];
}
