import * as z from 'zod';
import { clusterCasSchema } from './wire-schemas.js';

export const pingResponseSchema = z.strictObject({
  cluster_name: z.string(),
  server_version: z.string(),
  signature_suite: z.enum(['balanced', 'legacy']),
  /** Pin of the TLS host CA (the CA behind the service's own TLS certificate), as `sha256:<hex>`. */
  ca_pin: z.string(),
  ca: clusterCasSchema,
});
export type PingResponse = z.infer<typeof pingResponseSchema>;
