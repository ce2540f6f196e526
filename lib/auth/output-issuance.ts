import type { KeyObject } from 'node:crypto';
import type {
  OutputCertificatesRequest,
  OutputCertificatesResponse,
  OutputResult,
} from '../api/output-certificates.js';
import { AccessDeniedError, InvalidRequestError, MidError, NotFoundError } from '../core/errors.js';
import { parseSubjectPublicKey } from '../pki/subject-public-key.js';
import type { App } from '../resources/app.js';
import { botUserName } from '../resources/bot.js';
import type { KubeCluster } from '../resources/kube-cluster.js';
import type { Node } from '../resources/node.js';
import { auditedRequest, refusal } from './audit-log.js';
import type { AuthContext, RequestMeta } from './auth-context.js';
import { awaitAll } from './await-all.js';
import type { AuthenticatedBot } from './bot-authenticator.js';
import type { Validity } from './certificate-issuer.js';
import { describeClusterCas } from './cluster-cas.js';
import { allowsHostCertificates, HOST_CERT_RULE } from './host-cert-rule.js';
import { kubernetesSubjects } from './kubernetes-identity.js';
import { nodeNames } from './node-names.js';
import type { ReadOnce, ResourceReader } from './request-reads.js';
import { refuseRoleLock } from './role-locks.js';
import { resolveRoleSet } from './role-resolver.js';
import { type RoleSet, selectRoles } from './role-set.js';
import { sshUserPrincipals } from './ssh-user-principals.js';

/** Output certificates live an hour unless the output asks for less (or the roles allow less). */
export const DEFAULT_OUTPUT_TTL_MS = 3_600_000;

/** Application certificates name their app in a URI SAN the app (or its proxy) checks. */
export function appIdentityUri(clusterName: string, appName: string): string {
  return `mid://${clusterName}/apps/${appName}`;
}

const FIELDS_BY_OUTPUT: Record<
  OutputCertificatesRequest['output'],
  ReadonlyArray<keyof OutputCertificatesRequest>
> = {
  identity: [],
  application: ['app_name'],
  kubernetes: ['kubernetes_cluster'],
  ssh_host: ['principals'],
};
const KIND_FIELDS = ['app_name', 'kubernetes_cluster', 'principals'] as const;

function checkFields(request: OutputCertificatesRequest): void {
  const wanted = FIELDS_BY_OUTPUT[request.output];
  for (const field of KIND_FIELDS) {
    const given = request[field] !== undefined;
    if (wanted.includes(field) && !given) {
      throw new InvalidRequestError(
        'missing_field',
        `body.${field}: a ${request.output} output needs ${field}`,
      );
    }
    if (!wanted.includes(field) && given) {
      throw new InvalidRequestError(
        'unexpected_field',
        `body.${field}: not used by a ${request.output} output; remove it`,
      );
    }
  }
}

/** The resources an output names, as read for this request (undefined: not found). */
interface Named {
  readonly nodes?: readonly Node[];
  readonly app?: App | undefined;
  readonly kubeCluster?: KubeCluster | undefined;
}

/** Reads the resources an output names (its app, its cluster, or the node list) through `reads`. */
async function readOutputResources(
  reads: ResourceReader,
  request: OutputCertificatesRequest,
): Promise<Named> {
  switch (request.output) {
    case 'identity':
      return { nodes: await reads.list('node') };
    case 'application':
      return { app: (await reads.get('app', request.app_name as string))?.resource };
    case 'kubernetes':
      return {
        kubeCluster: (await reads.get('kube_cluster', request.kubernetes_cluster as string))?.resource,
      };
    case 'ssh_host':
      return { nodes: await reads.list('node') };
  }
}

/**
 * What a batch of outputs reads, started while its caller is authenticated (one round trip for both):
 * the roles the certificate names, the locks on them, and what each output names. An output with the
 * wrong fields for its kind reads nothing ahead, as it is refused before it reads.
 */
export function outputReadsAhead(
  reads: ReadOnce,
  certificateRoles: readonly string[],
  requests: readonly OutputCertificatesRequest[],
): void {
  reads.readRolesAhead(certificateRoles);
  for (const request of requests) {
    // Not awaited here: the output that uses these awaits them, and sees any failure then.
    if (hasItsFields(request)) readOutputResources(reads, request).catch(() => undefined);
  }
}

function hasItsFields(request: OutputCertificatesRequest): boolean {
  try {
    checkFields(request);
    return true;
  } catch {
    return false;
  }
}

interface Draft {
  readonly tls_cert?: string;
  readonly ssh_cert?: string;
  readonly serial: string;
  readonly extra: Partial<Pick<OutputCertificatesResponse, 'ssh' | 'app' | 'kubernetes'>>;
}

/**
 * Issues the certificates of one output by role impersonation: the output's roles must be a subset of
 * the bot's (never more), every name comes from resources, and the TTL is capped by the roles.
 */
export class OutputIssuance {
  constructor(private readonly context: AuthContext) {}

  /**
   * The outputs of one batch, issued side by side: the roles and resources they share are read once, so
   * the batch costs the round trips of one output. Each output is issued, refused and audited as
   * {@link issue} would; a refusal is that output's answer, while a failure of the service itself (storage
   * down) fails the whole batch, as it would fail each single call.
   */
  async issueAll(
    caller: AuthenticatedBot,
    requests: readonly OutputCertificatesRequest[],
    meta: RequestMeta,
  ): Promise<OutputResult[]> {
    const settled = await Promise.allSettled(requests.map((request) => this.issue(caller, request, meta)));
    const failure = settled.find((result) => result.status === 'rejected' && !isRefusal(result.reason));
    if (failure?.status === 'rejected') throw failure.reason;
    return settled.map((result) => {
      if (result.status === 'fulfilled') return { certificates: result.value };
      const refused = result.reason as MidError;
      return { error: { code: refused.code, message: refused.message, status: refused.httpStatus } };
    });
  }

  async issue(
    caller: AuthenticatedBot,
    request: OutputCertificatesRequest,
    meta: RequestMeta,
  ): Promise<OutputCertificatesResponse> {
    const { reads } = caller;
    const base = {
      type: 'cert.issue' as const,
      bot: caller.bot.metadata.name,
      instance: caller.instance.instance_id,
      output: request.output,
      ...auditedRequest(meta),
    };
    try {
      checkFields(request);
      const roleNames = selectRoles(caller.bot.metadata.name, caller.bot.spec.roles, request.roles);
      const publicKey = parseSubjectPublicKey(request.public_key);
      // The roles, the locks on them and the resources the output names do not depend on each other:
      // one round trip. A missing role is still refused before a missing app or cluster. A lock on any
      // role the bot holds refuses the output, whichever of them it asks for (as tctl lock --role).
      const [roleSet, named] = await awaitAll([
        resolveRoleSet(reads, caller.bot, roleNames),
        readOutputResources(reads, request),
        reads.roleLock(caller.bot).then((lock) => refuseRoleLock(lock, caller.bot)),
      ]);
      const ttlMs = Math.min(
        (request.ttl_seconds ?? DEFAULT_OUTPUT_TTL_MS / 1000) * 1000,
        roleSet.maxSessionTtlMs(),
      );
      const validity = this.context.issuer.validity(ttlMs);
      const draft = this.draft(caller, request, roleSet, named, publicKey, validity);
      const response: OutputCertificatesResponse = {
        output: request.output,
        cluster_name: this.context.clusterName,
        bot_name: caller.bot.metadata.name,
        roles: roleSet.names,
        serial: draft.serial,
        issued_at: new Date(this.context.clock.now()).toISOString(),
        expires_at: validity.notAfter.toISOString(),
        ...(draft.tls_cert === undefined ? {} : { tls_cert: draft.tls_cert }),
        ...(draft.ssh_cert === undefined ? {} : { ssh_cert: draft.ssh_cert }),
        ca: describeClusterCas(this.context.cas),
        ...draft.extra,
      };
      await this.context.audit.record({
        ...base,
        outcome: 'success',
        roles: roleSet.names,
        serials: [draft.serial],
      });
      return response;
    } catch (error) {
      await this.context.audit.record({
        ...base,
        ...refusal(error),
      });
      throw error;
    }
  }

  private draft(
    caller: AuthenticatedBot,
    request: OutputCertificatesRequest,
    roleSet: RoleSet,
    named: Named,
    publicKey: KeyObject,
    validity: Validity,
  ): Draft {
    const user = botUserName(caller.bot.metadata.name);
    const issuer = this.context.issuer;
    switch (request.output) {
      case 'identity': {
        const tls = issuer.issueClientCertificate({
          publicKey,
          subject: { commonName: user, organization: roleSet.names },
          validity,
        });
        const logins = roleSet.logins();
        const ssh_cert = issuer.issueSshUserCertificate({
          publicKey,
          keyId: user,
          principals: sshUserPrincipals(roleSet, named.nodes ?? []),
          validity,
        }).line;
        const nodes = (named.nodes ?? [])
          .filter((node) => roleSet.canAccessNode(node.metadata.labels ?? {}))
          .map((node) => ({ name: node.metadata.name, hostname: node.spec.hostname, addr: node.spec.addr }));
        return { tls_cert: tls.pem, ssh_cert, serial: tls.serialHex, extra: { ssh: { logins, nodes } } };
      }
      case 'application': {
        const appName = request.app_name as string;
        const app = named.app;
        if (app === undefined) {
          throw new NotFoundError(
            'app_not_found',
            `app "${appName}" does not exist; list apps with \`midctl get apps\``,
          );
        }
        if (!roleSet.canAccessApp(app.metadata.labels ?? {})) {
          throw new AccessDeniedError(
            'app_not_allowed',
            `the roles ${roleSet.names.join(', ')} do not allow app "${appName}" (app_labels)`,
          );
        }
        const tls = issuer.issueClientCertificate({
          publicKey,
          subject: { commonName: user, organization: roleSet.names },
          uris: [appIdentityUri(this.context.clusterName, appName)],
          validity,
        });
        const { uri, public_addr } = app.spec;
        return {
          tls_cert: tls.pem,
          serial: tls.serialHex,
          extra: { app: { name: appName, uri, ...(public_addr === undefined ? {} : { public_addr }) } },
        };
      }
      case 'kubernetes': {
        const clusterName = request.kubernetes_cluster as string;
        const cluster = named.kubeCluster;
        if (cluster === undefined) {
          throw new NotFoundError(
            'kube_cluster_not_found',
            `kube_cluster "${clusterName}" does not exist; list them with \`midctl get kube_clusters\``,
          );
        }
        if (!roleSet.canAccessKubernetesCluster(cluster.metadata.labels ?? {})) {
          throw new AccessDeniedError(
            'kube_cluster_not_allowed',
            `the roles ${roleSet.names.join(', ')} do not allow Kubernetes cluster "${clusterName}" (kubernetes_labels)`,
          );
        }
        const { users, groups, problem } = kubernetesSubjects(roleSet, cluster.metadata.labels ?? {});
        if (problem === 'no_kubernetes_identity') {
          throw new AccessDeniedError(
            'no_kubernetes_identity',
            `the roles that allow Kubernetes cluster "${clusterName}" set neither kubernetes_users nor kubernetes_groups`,
          );
        }
        if (problem === 'ambiguous_kubernetes_user') {
          throw new AccessDeniedError(
            'ambiguous_kubernetes_user',
            `the roles allow several kubernetes_users (${users.join(', ')}); narrow the output with roles: so that one remains`,
          );
        }
        // As in Teleport: with only groups set, the Kubernetes user is the bot's user name.
        const kubeUser = users[0] ?? user;
        const tls = issuer.issueClientCertificate({
          publicKey,
          subject: { commonName: kubeUser, organization: groups },
          validity,
        });
        const spec = cluster.spec;
        return {
          tls_cert: tls.pem,
          serial: tls.serialHex,
          extra: {
            kubernetes: {
              cluster_name: clusterName,
              api_server: spec.api_server,
              ca_cert: spec.ca_cert,
              ...(spec.tls_server_name === undefined ? {} : { tls_server_name: spec.tls_server_name }),
              user: kubeUser,
              groups,
            },
          },
        };
      }
      case 'ssh_host': {
        if (!allowsHostCertificates(roleSet)) {
          // Narrowed by the output's roles:, the bot may hold the rule in a role left out.
          const narrowed = request.roles !== undefined && request.roles.length > 0;
          throw new AccessDeniedError(
            'host_cert_not_allowed',
            `ssh_host outputs need a role with \`${HOST_CERT_RULE}\`; ${
              narrowed
                ? `this output's roles (${roleSet.names.join(', ')}) hold none: add such a role to the output's roles: (the bot holds ${caller.bot.spec.roles.join(', ')})`
                : `the bot's roles (${roleSet.names.join(', ')}) hold none: give the bot such a role (midctl bots update ${caller.bot.metadata.name} --add-roles=ROLE)`
            }`,
          );
        }
        const requested = request.principals as string[];
        const principals = hostPrincipals(requested, named.nodes ?? [], this.context.clusterName);
        const host = issuer.issueSshHostCertificate({
          publicKey,
          keyId: requested[0] as string,
          principals,
          validity,
        });
        return { ssh_cert: host.line, serial: host.serialHex, extra: {} };
      }
    }
  }
}

/** A refusal of the caller's request (4xx), as opposed to a failure of the service. */
function isRefusal(error: unknown): error is MidError {
  return error instanceof MidError && error.httpStatus >= 400 && error.httpStatus < 500;
}

/**
 * The principals of a host certificate: the requested ones, each a name of a registered node, plus
 * `<hostname>.<cluster>` of a node that a requested name identifies alone, because that is the name the
 * `ssh_config` of identity outputs checks the certificate against (HostKeyAlias). An address that several
 * nodes share adds none of theirs: the host asking for it is not known to be any one of them.
 */
function hostPrincipals(
  principals: readonly string[],
  nodes: readonly Node[],
  clusterName: string,
): string[] {
  const named = (principal: string) =>
    nodes.filter((node) => nodeNames(node, clusterName).includes(principal));
  const unknown = principals.filter((principal) => named(principal).length === 0);
  if (unknown.length > 0) {
    throw new AccessDeniedError(
      'unknown_host_principal',
      `host certificates name registered nodes only; ${unknown.map((p) => `"${p}"`).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not the hostname, hostname.${clusterName} or address of any node. Register the host with \`midctl create -f node.yaml\` (kind: node, sub_kind: openssh)`,
    );
  }
  const aliases = principals.flatMap((principal) => {
    const [only, ...others] = named(principal);
    return only !== undefined && others.length === 0 ? [`${only.spec.hostname}.${clusterName}`] : [];
  });
  return [...new Set([...principals, ...aliases])];
}
