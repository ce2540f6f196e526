import { nodeNames } from '../auth/node-names.js';
import { closestNames } from '../core/closest-names.js';
import { formatPath } from '../core/schema.js';
import type { Resource } from '../resources/resource.js';
import type { DeploymentBot } from './deployment.js';

/** Where a path of the file was written (`line 12`), when known. */
type Locate = (path: readonly PropertyKey[]) => string | undefined;

/**
 * Names that bots in a deployment file give for roles, apps, Kubernetes clusters and (in `ssh_host`
 * principals) nodes the file does not define, while it defines others of that kind: most likely a typo
 * (`grafana-readr`), which nothing would report before the bot's first run fails ("holds role …, which
 * does not exist"). A kind the file defines none of is managed elsewhere (`midctl create`), and its
 * names are not checked. Warnings, not refusals: the cluster may hold the name already.
 */
export function undefinedReferences(
  bots: readonly DeploymentBot[],
  resources: readonly Resource[],
  clusterName: string,
  locate: Locate,
): string[] {
  const defined = (kind: Resource['kind']) =>
    resources.filter((resource) => resource.kind === kind).map((resource) => resource.metadata.name);
  const roles = defined('role');
  const apps = defined('app');
  const clusters = defined('kube_cluster');
  // The names the service accepts as a host certificate's principals (`hostPrincipals`).
  const hostNames = resources.flatMap((resource) =>
    resource.kind === 'node' ? nodeNames(resource, clusterName) : [],
  );
  const warnings: string[] = [];
  const check = (
    path: readonly PropertyKey[],
    name: string | undefined,
    known: readonly string[],
    unknown: string,
    consequence: string,
  ) => {
    if (name === undefined || known.length === 0 || known.includes(name)) return;
    const line = locate(path);
    const [closest] = closestNames(name, known);
    warnings.push(
      `${formatPath(path)}${line === undefined ? '' : ` (${line})`}: ${unknown}${closest === undefined ? '.' : `; did you mean "${closest}"?`} ${consequence}`,
    );
  };
  const among = (kind: string, name: string) =>
    `${kind} "${name}" is not among the ${kind}s this file defines`;
  const unless = 'Unless the cluster has it already (midctl create),';
  bots.forEach((bot, botIndex) => {
    bot.roles.forEach((role, index) => {
      check(
        ['bots', botIndex, 'roles', index],
        role,
        roles,
        among('role', role),
        `${unless} every run of bot "${bot.name}" fails`,
      );
    });
    bot.outputs.forEach((output, index) => {
      const at = ['bots', botIndex, 'outputs', index];
      const fails = `output "${output.name}" fails on every run`;
      if (output.app_name !== undefined) {
        check(
          [...at, 'app_name'],
          output.app_name,
          apps,
          among('app', output.app_name),
          `${unless} ${fails}`,
        );
      }
      if (output.kubernetes_cluster !== undefined) {
        const name = output.kubernetes_cluster;
        check(
          [...at, 'kubernetes_cluster'],
          name,
          clusters,
          among('kube_cluster', name),
          `${unless} ${fails}`,
        );
      }
      (output.principals ?? []).forEach((principal, principalIndex) => {
        check(
          [...at, 'principals', principalIndex],
          principal,
          hostNames,
          `principal "${principal}" is not the hostname, hostname.${clusterName} or address of any node this file defines`,
          `Unless the cluster has such a node already (midctl create), ${fails}: host certificates name registered nodes only`,
        );
      });
    });
  });
  return warnings;
}
