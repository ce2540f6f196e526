import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { InvalidRequestError, LimitExceededError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import type { ApiRequest, ApiResponse } from '../http/api-request.js';
import { MAX_BODY_BYTES } from '../http/json-body.js';

/**
 * The parts of an API Gateway HTTP API (payload format 2.0) event the service reads. Parsed strictly
 * enough to be safe, loosely enough that fields AWS adds later do not break the handler.
 */
export const httpApiEventSchema = z.looseObject({
  version: z.literal('2.0'),
  rawPath: z.string().max(2048),
  rawQueryString: z.string().max(4096).default(''),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().default(false),
  requestContext: z.looseObject({
    requestId: z.string(),
    http: z.looseObject({ method: z.string(), sourceIp: z.string().optional() }),
    authorizer: z
      .looseObject({
        iam: z.looseObject({ userArn: z.string().optional(), accountId: z.string().optional() }).optional(),
      })
      .optional(),
  }),
});
export type HttpApiEvent = z.infer<typeof httpApiEventSchema>;

export function isHttpApiEvent(event: unknown): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as { version?: unknown }).version === '2.0' &&
    'requestContext' in event
  );
}

/** The path of an event `toApiRequest` refused, for the audit record: `rawPath` if it is a string. */
export function rawPathOf(event: unknown): string {
  const rawPath = (event as { rawPath?: unknown }).rawPath;
  return typeof rawPath === 'string' ? rawPath : '/';
}

/** The caller's address of an event `toApiRequest` refused, for the audit record, when it has one. */
export function sourceIpOf(event: unknown): { remoteAddr?: string } {
  const sourceIp = (event as { requestContext?: { http?: { sourceIp?: unknown } } }).requestContext?.http
    ?.sourceIp;
  return typeof sourceIp === 'string' ? { remoteAddr: sourceIp } : {};
}

/**
 * Maps an HTTP API event to the router's request. The operator's identity is taken only from the IAM
 * authoriser's context, which API Gateway fills after verifying SigV4 on the admin routes; a header
 * cannot set it.
 */
export function toApiRequest(event: unknown): ApiRequest {
  const parsed = parseWithSchema(httpApiEventSchema, event, { root: 'event', code: 'invalid_event' });
  const body =
    parsed.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(parsed.body, parsed.isBase64Encoded ? 'base64' : 'utf8');
  if (body.length > MAX_BODY_BYTES) {
    throw new LimitExceededError('body_too_large', `the request body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed.headers)) {
    const lower = name.toLowerCase();
    // API Gateway sends lower-case names with repeats joined; two spellings of one name mean the event
    // was not made by it, and keeping either value would be a guess.
    if (Object.hasOwn(headers, lower)) {
      throw new InvalidRequestError(
        'invalid_event',
        `event.headers.${lower}: the header is given more than once (under different spellings); send it once`,
      );
    }
    headers[lower] = value;
  }
  const userArn = parsed.requestContext.authorizer?.iam?.userArn;
  return {
    method: parsed.requestContext.http.method.toUpperCase(),
    path: parsed.rawPath,
    query: new URLSearchParams(parsed.rawQueryString),
    headers,
    body,
    requestId: parsed.requestContext.requestId || randomUUID(),
    ...(parsed.requestContext.http.sourceIp === undefined
      ? {}
      : { remoteAddr: parsed.requestContext.http.sourceIp }),
    ...(userArn === undefined ? {} : { adminPrincipal: userArn }),
  };
}

/** The HTTP API's structured response (payload 2.0). */
export interface HttpApiResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly isBase64Encoded: false;
}

export function toHttpApiResult(response: ApiResponse, requestId: string): HttpApiResult {
  return {
    statusCode: response.status,
    headers: { ...response.headers, 'x-request-id': requestId },
    body: response.body,
    isBase64Encoded: false,
  };
}
