import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';
import { hostPortProblem, urlProblem } from './fields.js';
import { metadataSchema } from './metadata.js';
import { checkedString } from './text.js';

export const APP_VERSIONS = ['v3'] as const;

/** A web application (`kind: app`, version v3) that `application` outputs issue certificates for. */
export const appSchema = builtOnFirstUse(() =>
  z.strictObject({
    kind: z.literal('app'),
    version: z.enum(APP_VERSIONS),
    metadata: metadataSchema,
    spec: z.strictObject({
      /** Where the application listens: an http or https URL. */
      uri: checkedString((value) => urlProblem(value, ['http:', 'https:'])),
      /** The address clients use, `host` or `host:port`. */
      public_addr: checkedString((value) => hostPortProblem(value, false)).optional(),
    }),
  }),
);

/** An application. */
export type App = z.infer<typeof appSchema>;
