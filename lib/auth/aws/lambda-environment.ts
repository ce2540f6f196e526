import * as z from 'zod';
import { ConfigError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';

/** The auth Lambda's settings, from its environment (set by the MachineIdAuth construct). */
export const authLambdaEnvironmentSchema = z.object({
  MID_CLUSTER_NAME: z.string().min(1),
  MID_SIGNATURE_SUITE: z.enum(['balanced', 'legacy']).default('balanced'),
  MID_TABLE_NAME: z.string().min(1),
  MID_CA_SECRET_ID: z.string().min(1),
  MID_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Tests only: send the STS call to a local emulator (refused unless loopback). */
  MID_INSECURE_STS_ENDPOINT_FOR_TESTS: z.string().optional(),
});
export type AuthLambdaEnvironment = z.infer<typeof authLambdaEnvironmentSchema>;

export function readAuthLambdaEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): AuthLambdaEnvironment {
  return parseWithSchema(authLambdaEnvironmentSchema, env, {
    root: 'environment',
    code: 'invalid_environment',
    error: (code, message) =>
      new ConfigError(code, `${message}; the MachineIdAuth construct sets these variables`),
  });
}
