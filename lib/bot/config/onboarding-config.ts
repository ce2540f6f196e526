import * as z from 'zod';
import { apiPathProblem } from '../../api/auth-server-address.js';
import { HIDE_VALUE } from '../../core/schema.js';
import { absolutePathSchema, list, oneOf, strictObject, text } from './config-fields.js';

/*
 * How the agent finds and authenticates the auth service and joins it: `auth_server` and
 * `onboarding` (`join_method`, `token`, `ca_pins`, `ca_path`, `public_tls`), as config keys and as
 * the `midbot start` flags of the getting-started guide.
 */

export const joinMethods = ['token', 'iam'] as const;

/** The pin placeholder printed in Teleport's guides; it is not hex, so it can never be a real pin. */
const GUIDE_PLACEHOLDER_PIN = /abdc1245efgh5678/;

/**
 * `host:port`, `host` or an https URL, normalised to an https URL without a trailing slash
 * (`example.teleport.sh:443` → `https://example.teleport.sh:443`). Plain `http://` is accepted only
 * for loopback addresses, where nothing crosses a network. A path is kept as the prefix of the API's
 * routes, but not one holding the API's own `/v1`.
 */
export const authServerSchema = text(
  'the auth service address, host:port or an https:// URL',
  'required: set auth_server to the auth service address, e.g. auth.example.com:443',
).transform((value, ctx) => {
  const trimmed = value.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected host:port or an https:// URL' });
    return z.NEVER;
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || /^127\./.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected an https:// address (http:// is only accepted for localhost)',
    });
    return z.NEVER;
  }
  if (
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.hostname === ''
  ) {
    ctx.addIssue({ code: 'custom', message: 'expected host:port or a URL without user, query or fragment' });
    return z.NEVER;
  }
  // URL drops a default port; keep what the user wrote so the value reads as they expect.
  const explicitPort = /^[a-z]+:\/\/(?:\[[^\]]*\]|[^/:]*):(\d+)/i.exec(withScheme)?.[1];
  const port =
    url.port !== '' ? `:${url.port}` : explicitPort !== undefined ? `:${Number(explicitPort)}` : '';
  const pathname = url.pathname.replace(/\/+$/, '');
  const origin = `${url.protocol}//${url.hostname}${port}`;
  const problem = apiPathProblem(origin, pathname, 'midbot');
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return `${origin}${pathname}`;
});

/** `sha256:` + 64 hex digits, the SPKI hash printed by `midctl bots add` and `midctl status`. */
export const caPinSchema = text('a CA pin like sha256:<64 hex digits>').transform((value, ctx) => {
  const pin = value.trim().toLowerCase();
  if (/^sha256:[0-9a-f]{64}$/.test(pin)) return pin;
  if (!pin.startsWith('sha256:')) {
    // No pin at all: perhaps the join token, given where the pin goes (they come one after the other in
    // `midctl bots add`'s output). A pin is no secret, but that value may be, so it is not echoed.
    ctx.addIssue({
      code: 'custom',
      params: HIDE_VALUE,
      message: /^[0-9a-f]{64}$/.test(pin)
        ? 'expected a CA pin, sha256: followed by 64 hex digits (the value, not shown, is 64 hex digits alone): write sha256: in front of them'
        : `expected a CA pin, sha256: followed by 64 hex digits (this value of ${value.length} characters is not shown: it may be the join token given in the wrong place); copy the pin printed by \`midctl bots add\` or \`midctl status\``,
    });
    return z.NEVER;
  }
  ctx.addIssue({
    code: 'custom',
    message: GUIDE_PLACEHOLDER_PIN.test(pin)
      ? "expected your cluster's CA pin; this is the guide's placeholder, copy the pin printed by `midctl bots add` or `midctl status`"
      : 'expected sha256: followed by 64 hex digits, as printed by `midctl bots add` or `midctl status`',
  });
  return z.NEVER;
});

/**
 * `ca_pins`: a list of pins. One pin written as a string instead is refused with how to write the list,
 * and, like any value that is no pin, without being echoed unless it starts as a pin does.
 */
const caPinsSchema = z
  .unknown()
  .transform((value, ctx) => {
    if (typeof value !== 'string') return value;
    ctx.addIssue({
      code: 'custom',
      ...(value.trim().toLowerCase().startsWith('sha256:') ? {} : { params: HIDE_VALUE }),
      message: 'expected a list of CA pins; write ca_pins: ["sha256:..."] (or --ca-pin)',
    });
    return z.NEVER;
  })
  .pipe(list(caPinSchema, 'a list of CA pins (sha256:...)'))
  .default([]);

export const joinMethodSchema = z.enum(joinMethods, { error: () => oneOf(joinMethods) });

/**
 * The join token for `token`, or the token's name for `iam`. Never echoed in errors. The `token` method
 * may leave it out when `storage` is a directory: a restart renews what storage holds, and only a join
 * needs the token (see `findConfigProblems` and the agent's refusal when it must join without one).
 */
export const tokenSchema = text(
  'the join token as text (put it in quotes)',
  'required: set onboarding.token to the token printed by `midctl bots add`',
)
  .min(1, 'expected the join token, not an empty string')
  // A token, or the path of a file holding one: a few dozen characters, a path at most a few hundred.
  .max(4_096, 'expected the join token or the path of a file holding it, not over 4096 characters')
  .regex(/^[^\x00-\x1f\x7f]*$/, 'expected the join token on one line, without control characters');

/** The keys of `onboarding`, each checked on its own. */
export const onboardingFieldsSchema = strictObject({
  join_method: joinMethodSchema,
  token: tokenSchema.optional(),
  ca_pins: caPinsSchema,
  /** A PEM file with the CA certificate to trust instead of (or as well as) pins. */
  ca_path: absolutePathSchema.optional(),
  /**
   * The auth service has a publicly trusted certificate (the API Gateway deployment): authenticate it
   * with the system's roots instead of a pin. The TLS handshake must then verify; nothing is skipped.
   */
  public_tls: z.boolean().default(false),
});

/** `onboarding` with the rules across its keys: a way to authenticate the service, an iam token's name. */
const onboardingRulesSchema = onboardingFieldsSchema
  .refine(
    (onboarding) =>
      onboarding.ca_pins.length > 0 || onboarding.ca_path !== undefined || onboarding.public_tls,
    {
      message:
        'expected ca_pins (or ca_path, or public_tls: true for an auth service with a publicly trusted certificate): midbot only joins a cluster it can authenticate; copy the pin printed by `midctl bots add`',
      path: ['ca_pins'],
    },
  )
  // The iam method joins on every run, so it always needs its token's name.
  .refine((onboarding) => onboarding.join_method !== 'iam' || onboarding.token !== undefined, {
    message: 'required with join_method iam: set it to the name of the iam join token',
    path: ['token'],
  });

/** `onboarding`, typed so that code reading an `iam` onboarding has its token without a check. */
export type OnboardingConfig = Omit<z.output<typeof onboardingRulesSchema>, 'join_method' | 'token'> &
  ({ join_method: 'iam'; token: string } | { join_method: 'token'; token?: string | undefined });

// The refinement above makes the cast true.
export const onboardingSchema = onboardingRulesSchema.transform(
  (onboarding) => onboarding as OnboardingConfig,
);
