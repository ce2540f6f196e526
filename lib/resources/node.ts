import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';
import { dnsNameSchema, hostPortProblem } from './fields.js';
import { metadataSchema } from './metadata.js';
import { checkedString } from './text.js';

export const NODE_VERSIONS = ['v2'] as const;

/**
 * An agentless OpenSSH server (`kind: node`, `sub_kind: openssh`, version v2). Identity outputs list in
 * ssh_config the nodes whose labels a bot's roles allow by `node_labels`; the host name and address go
 * into ssh_config and host certificates, so only host names and IP addresses are accepted.
 */
export const nodeSchema = builtOnFirstUse(() =>
  z.strictObject({
    kind: z.literal('node'),
    sub_kind: z.literal('openssh', {
      error: 'only agentless OpenSSH nodes are supported; write sub_kind: openssh',
    }),
    version: z.enum(NODE_VERSIONS),
    metadata: metadataSchema,
    spec: z.strictObject({
      /** Where sshd listens, `host:port`. */
      addr: checkedString((value) => hostPortProblem(value, true)),
      /** The name people use for the node. */
      hostname: dnsNameSchema,
    }),
  }),
);

/** An OpenSSH node. */
export type Node = z.infer<typeof nodeSchema>;
