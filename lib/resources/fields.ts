import { isIPv6 } from 'node:net';
import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';
import { durationAdvice, parseDuration } from '../core/duration.js';
import { parseRfc3339 } from './rfc3339.js';
import { describeCharacter, findUnsafeCharacter } from './text.js';

const TIME_HINT = 'expected an RFC 3339 time such as "2030-01-01T00:00:00Z"';

/**
 * A point in time written as an RFC 3339 string or as a YAML `!!timestamp`, normalised to the ISO form
 * `2030-01-01T00:00:00.000Z` so that stored values compare and sort as text.
 */
export const timestampSchema = builtOnFirstUse(() =>
  z.union([z.string(), z.date()], { error: TIME_HINT }).transform((value, ctx): string => {
    const time = typeof value === 'string' ? parseRfc3339(value) : value.getTime();
    const year = time === undefined ? Number.NaN : new Date(time).getUTCFullYear();
    // Years outside 0000-9999 have no RFC 3339 form.
    if (time === undefined || !(year >= 0 && year <= 9999)) {
      ctx.issues.push({ code: 'custom', message: TIME_HINT, input: value });
      return z.NEVER;
    }
    return new Date(time).toISOString();
  }),
);

/** A Go-style duration such as `8h`, `30m` or `1h30m`, longer than zero; kept as written. */
export const durationSchema = builtOnFirstUse(() =>
  z.string().superRefine((value, ctx) => {
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch {
      ctx.addIssue({
        code: 'custom',
        input: value,
        message: `expected a duration; ${durationAdvice(value)}`,
      });
      return;
    }
    if (ms <= 0)
      ctx.addIssue({ code: 'custom', input: value, message: 'expected a duration longer than zero' });
  }),
);

/** A 12-digit AWS account ID, as a string. */
export const awsAccountSchema = builtOnFirstUse(() =>
  z
    .string({
      error: (issue) =>
        typeof issue.input === 'number'
          ? 'AWS account IDs must be quoted so YAML keeps them as text, with any leading zeros: write aws_account: "123456789012"'
          : 'expected a 12-digit AWS account ID in quotes, e.g. "123456789012"',
    })
    .regex(/^\d{12}$/, 'expected a 12-digit AWS account ID, e.g. "123456789012"'),
);

const DNS_LABEL = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** Whether `value` is a DNS host name (letters, digits and `-` in dot-separated labels) or IPv4 address. */
export function isDnsName(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const labels = value.endsWith('.') ? value.slice(0, -1).split('.') : value.split('.');
  return labels.every((label) => DNS_LABEL.test(label));
}

/** A DNS host name (used in ssh_config and certificates, so nothing else is accepted). */
export const dnsNameSchema = builtOnFirstUse(() =>
  z
    .string()
    .refine(
      isDnsName,
      'expected a host name: letters, digits and "-" in labels separated by ".", e.g. web-1.example.com',
    ),
);

/** What is wrong with a `host:port` (port optional unless `requirePort`), or undefined. */
export function hostPortProblem(value: string, requirePort: boolean): string | undefined {
  const shape = requirePort
    ? 'host:port, e.g. web-1.example.com:22'
    : 'host or host:port, e.g. app.example.com:443';
  const match = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d{1,5}))?$/.exec(value);
  if (match === null) return `expected ${shape} (IPv6 addresses in brackets: [2001:db8::1]:22)`;
  const [, host = '', port] = match;
  const validHost = host.startsWith('[') ? isIPv6(host.slice(1, -1)) : isDnsName(host);
  if (!validHost) return `"${host}" is not a host name or IP address; expected ${shape}`;
  if (port === undefined) return requirePort ? `the port is missing; expected ${shape}` : undefined;
  const number = Number(port);
  if (number < 1 || number > 65535) return `the port ${port} is not between 1 and 65535`;
  return undefined;
}

/**
 * What is wrong with a URL that must use one of `protocols`, or undefined. Credentials in the URL are
 * refused: resources are listed and logged, and a password does not belong in either.
 */
export function urlProblem(value: string, protocols: readonly string[]): string | undefined {
  const example = protocols.includes('http:') ? 'http://localhost:3000' : 'https://kube.example.com:6443';
  const unsafe = findUnsafeCharacter(value) ?? /\s/.exec(value)?.[0];
  if (unsafe !== undefined) return `${describeCharacter(unsafe)} is not allowed in a URL`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `expected a URL such as ${example}`;
  }
  if (!protocols.includes(url.protocol)) {
    return `the scheme must be ${protocols.map((p) => p.slice(0, -1)).join(' or ')}, e.g. ${example}`;
  }
  if (url.username !== '' || url.password !== '') return 'remove the user name and password from the URL';
  if (url.hostname === '') return `the URL has no host; expected e.g. ${example}`;
  return undefined;
}
