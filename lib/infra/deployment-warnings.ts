import type { Resource } from '../resources/resource.js';
import type { DeploymentBot } from './deployment.js';
import { outputsWithoutHostCertRule } from './deployment-host-cert-rule.js';
import { outputsWithoutKubernetesIdentity } from './deployment-kubernetes-identity.js';
import { outputsOverPrincipalLimit } from './deployment-principal-limit.js';
import { undefinedReferences } from './deployment-references.js';
import { unreachableOutputs } from './deployment-role-reach.js';

/**
 * One synth warning of the file, with the id it is shown (and may be acknowledged) under: one id per
 * kind, so that acknowledging names the cluster defines outside the file does not silence roles that
 * cannot reach an output.
 */
export interface DeploymentWarning {
  readonly id: string;
  readonly message: string;
}

/**
 * What synth warns of in a deployment file, in its words and at its lines: what would most likely make
 * a bot's runs fail, judged from what the file defines. Warnings rather than refusals, as the cluster
 * may hold what the file does not show.
 */
export function deploymentWarnings(
  bots: readonly DeploymentBot[],
  resources: readonly Resource[],
  clusterName: string,
  locate: (path: readonly PropertyKey[]) => string | undefined,
): DeploymentWarning[] {
  const kind = (id: string, messages: readonly string[]) =>
    messages.map((message) => ({ id: `machine-id:${id}`, message }));
  return [
    ...kind('undefined-reference', undefinedReferences(bots, resources, clusterName, locate)),
    ...kind('output-not-allowed-by-roles', unreachableOutputs(bots, resources, locate)),
    ...kind('host-cert-not-allowed', outputsWithoutHostCertRule(bots, resources, locate)),
    ...kind('no-kubernetes-identity', outputsWithoutKubernetesIdentity(bots, resources, locate)),
    ...kind('too-many-principals', outputsOverPrincipalLimit(bots, resources, locate)),
  ];
}
