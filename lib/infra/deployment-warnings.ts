import type { Resource } from '../resources/resource.js';
import type { DeploymentBot } from './deployment.js';
import { outputsWithoutHostCertRule } from './deployment-host-cert-rule.js';
import { outputsWithoutKubernetesIdentity } from './deployment-kubernetes-identity.js';
import { outputsOverPrincipalLimit } from './deployment-principal-limit.js';
import { undefinedReferences } from './deployment-references.js';
import { unreachableOutputs } from './deployment-role-reach.js';

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
): string[] {
  return [
    ...undefinedReferences(bots, resources, clusterName, locate),
    ...unreachableOutputs(bots, resources, locate),
    ...outputsWithoutHostCertRule(bots, resources, locate),
    ...outputsWithoutKubernetesIdentity(bots, resources, locate),
    ...outputsOverPrincipalLimit(bots, resources, locate),
  ];
}
