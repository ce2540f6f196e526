import type { Node } from '../resources/node.js';

/**
 * The names a registered node answers to: its hostname, hostname.<cluster>, and the host of its address.
 * A host certificate may only name these, so a bot allowed to create host certificates still cannot
 * mint one for a host the cluster does not know (SECURITY rule 9: names come from resource data). The
 * deployment file's check of `ssh_host` principals reads them too, so both agree on what a node is called.
 */
export function nodeNames(node: Node, clusterName: string): string[] {
  const host = node.spec.addr.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return [node.spec.hostname, `${node.spec.hostname}.${clusterName}`, host];
}
