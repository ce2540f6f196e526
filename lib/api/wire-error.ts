import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';

/**
 * Every error answer on the wire has this shape; `code` is stable and machine readable. Built on first
 * use: only a refused call reads one.
 */
export const wireErrorSchema = builtOnFirstUse(() =>
  z.strictObject({
    error: z.strictObject({
      code: z.string(),
      message: z.string(),
      request_id: z.string().optional(),
    }),
  }),
);
export type WireError = z.infer<typeof wireErrorSchema>;

/**
 * How API Gateway itself refuses a call before it reaches the auth service (a failed IAM authorisation,
 * throttling, a missing route): `{"message": "Forbidden"}`.
 */
export const gatewayErrorSchema = builtOnFirstUse(() => z.strictObject({ message: z.string() }));
