import { closestNames } from '../core/closest-names.js';
import { formatPath } from '../core/schema.js';
import type { Resource } from '../resources/resource.js';
import type { DeploymentBot } from './deployment.js';

/** Where a path of the file was written (`line 12`), when known. */
type Locate = (path: readonly PropertyKey[]) => string | undefined;

/**
 * Names that bots in a deployment file give for roles, apps and Kubernetes clusters the file does not
 * define, while it defines others of that kind: most likely a typo (`grafana-readr`), which nothing
 * would report before the bot's first run fails ("holds role …, which does not exist"). A kind the
 * file defines none of is managed elsewhere (`midctl create`), and its names are not checked. Warnings,
 * not refusals: the cluster may hold the name already.
 */
export function undefinedReferences(
  bots: readonly DeploymentBot[],
  resources: readonly Resource[],
  locate: Locate,
): string[] {
  const defined = (kind: Resource['kind']) =>
    resources.filter((resource) => resource.kind === kind).map((resource) => resource.metadata.name);
  const roles = defined('role');
  const apps = defined('app');
  const clusters = defined('kube_cluster');
  const warnings: string[] = [];
  const check = (
    path: readonly PropertyKey[],
    kind: string,
    name: string | undefined,
    known: readonly string[],
    consequence: string,
  ) => {
    if (name === undefined || known.length === 0 || known.includes(name)) return;
    const line = locate(path);
    const [closest] = closestNames(name, known);
    warnings.push(
      `${formatPath(path)}${line === undefined ? '' : ` (${line})`}: ${kind} "${name}" is not among the ${kind}s this file defines${closest === undefined ? '.' : `; did you mean "${closest}"?`} Unless the cluster has it already (midctl create), ${consequence}`,
    );
  };
  bots.forEach((bot, botIndex) => {
    bot.roles.forEach((role, index) => {
      check(['bots', botIndex, 'roles', index], 'role', role, roles, `every run of bot "${bot.name}" fails`);
    });
    bot.outputs.forEach((output, index) => {
      const at = ['bots', botIndex, 'outputs', index];
      check([...at, 'app_name'], 'app', output.app_name, apps, `output "${output.name}" fails on every run`);
      check(
        [...at, 'kubernetes_cluster'],
        'kube_cluster',
        output.kubernetes_cluster,
        clusters,
        `output "${output.name}" fails on every run`,
      );
    });
  });
  return warnings;
}
