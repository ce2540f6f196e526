import * as z from 'zod';

export const heartbeatRequestSchema = z.strictObject({
  hostname: z.string().max(253),
  version: z.string().max(64),
  uptime_seconds: z.number().int().nonnegative(),
  one_shot: z.boolean(),
  /** How many outputs this run wrote. */
  outputs_written: z.number().int().nonnegative().max(1000),
});
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;
