import type * as z from 'zod';
import { InvalidRequestError, LimitExceededError } from '../../core/errors.js';
import { formatPath, parseWithSchema } from '../../core/schema.js';
import { firstDuplicateKey, jsonDepth } from '../../core/strict-json.js';

/** No body on this API is near this; anything larger is refused before it is parsed. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Our bodies nest a few levels; a deep one is an attack on the parser. */
export const MAX_JSON_DEPTH = 16;

/** Parses a request body as JSON and then with `schema`; every refusal names the field. */
export function parseJsonBody<S extends z.ZodType>(
  body: Buffer,
  schema: S,
  redact: readonly string[] = [],
): z.output<S> {
  if (body.length > MAX_BODY_BYTES) {
    throw new LimitExceededError(
      'body_too_large',
      `the request body is ${body.length} bytes; the limit is ${MAX_BODY_BYTES}`,
    );
  }
  const text = body.toString('utf8');
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new InvalidRequestError(
      'body_too_deep',
      `the request body nests deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    // V8's message quotes the text around the mistake, which may be part of a join token: say where,
    // not what.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new InvalidRequestError(
      'malformed_json',
      `the request body is not JSON${position === undefined ? '' : ` (syntax error at character ${position})`}; send one JSON object`,
    );
  }
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined) {
    const key = String(duplicate[duplicate.length - 1]);
    throw new InvalidRequestError(
      'duplicate_key',
      `${formatPath(duplicate, 'body')}: the key ${JSON.stringify(key.slice(0, 64))} appears more than once in its object; send each key once`,
    );
  }
  return parseWithSchema(schema, value, { root: 'body', code: 'invalid_body', redact });
}
