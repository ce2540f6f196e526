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
 *
 * sshd itself knows nothing of labels: it accepts any certificate of the cluster's user CA that names
 * the login. A node marked `scoped_principals` closes that gap (see `spec.scoped_principals`).
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
      /**
       * The node's sshd requires certificate principals scoped to it (`<login>@<node name>`, through
       * `AuthorizedPrincipalsCommand`), so that only bots whose roles allow this node log in, whatever
       * logins they hold. Identity outputs then carry those principals for this node.
       */
      scoped_principals: z.boolean().optional(),
    }),
  }),
);

/** An OpenSSH node. */
export type Node = z.infer<typeof nodeSchema>;
