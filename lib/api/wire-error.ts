import * as z from 'zod';

/** Every error answer on the wire has this shape; `code` is stable and machine readable. */
export const wireErrorSchema = z.strictObject({
  error: z.strictObject({
    code: z.string(),
    message: z.string(),
    request_id: z.string().optional(),
  }),
});
export type WireError = z.infer<typeof wireErrorSchema>;
