import * as z from 'zod';
import { AWS_REGION_NAME } from '../../core/aws-region.js';
import { formatDuration, parseDuration } from '../../core/duration.js';
import { listenAddressProblem } from '../../core/listen-address.js';
import { SECRET_ARN, SECRET_NAME } from '../destinations/secret-value.js';
import { absolutePathSchema, byType, flag, list, oneOf, strictObject, text } from './config-fields.js';
import {
  CONFIG_KEYS,
  type ConfigNames,
  DEFAULT_CERTIFICATE_TTL_MS,
  DEFAULT_RENEWAL_INTERVAL_MS,
  findConfigProblems,
} from './config-rules.js';
import { authServerSchema, onboardingFieldsSchema, onboardingSchema } from './onboarding-config.js';

/**
 * The agent's configuration, in the shape of tbot's v2 YAML (`version: v2`, `onboarding`, `storage`,
 * `outputs`). Keys keep their YAML spelling so that error messages, docs and the file agree; durations
 * are read as Go-style text ("1h", "20m") and held as milliseconds.
 *
 * Paths in a config file must be absolute: under systemd the working directory is `/`, so a relative
 * path would silently mean something else than it did in the shell where the file was written.
 * (`midbot start --destination-dir ./out` resolves against the shell's working directory instead,
 * see `configFromFlags`.)
 */

export const outputTypes = ['identity', 'application', 'kubernetes', 'ssh_host'] as const;
export const destinationTypes = ['directory', 'memory', 'aws_secrets_manager'] as const;

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,252}$/;

/** Role, app, cluster and login names: no spaces, quotes or control characters. */
export function nameSchema(what: string) {
  return text(what).regex(NAME, `expected ${what} (letters, digits, . _ @ -)`);
}

/** A Go-style duration ("1h", "20m", "90s"), held as milliseconds; zero is refused. */
export const durationSchema = text('a duration like 1h, 20m or 90s').transform((value, ctx) => {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected a duration; write it like 1h, 20m, 90s or 1h30m' });
    return z.NEVER;
  }
  if (ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration longer than zero' });
    return z.NEVER;
  }
  return ms;
});

/**
 * The shortest `renewal_interval`. Each renewal renews the bot, issues every output and records a
 * heartbeat and audit events, so renewing more often only loads the auth service (a typo of `1ms` for
 * `1m` would renew dozens of times a second); certificates live an hour by default.
 */
export const MIN_RENEWAL_INTERVAL_MS = 60_000;

/** `renewal_interval` (and `--renewal-interval`): a duration of at least `MIN_RENEWAL_INTERVAL_MS`. */
export const renewalIntervalSchema = durationSchema.refine((ms) => ms >= MIN_RENEWAL_INTERVAL_MS, {
  message: `expected at least ${formatDuration(MIN_RENEWAL_INTERVAL_MS)}: every renewal issues all outputs again, so renewing more often only loads the auth service (the default is 20m)`,
});

/** What error messages show as a `diag_addr`. */
export const DIAG_ADDR_EXAMPLE = '127.0.0.1:3001';

/** `diag_addr` (and `--diag-addr`): `HOST:PORT` to listen on, port 0 for any free one. */
export const diagAddrSchema = text(`HOST:PORT such as ${DIAG_ADDR_EXAMPLE}`).superRefine((value, ctx) => {
  const problem = listenAddressProblem(value, DIAG_ADDR_EXAMPLE);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * tbot's `symlinks` of a directory (destination or storage). tbot's other modes follow symlinks when
 * the kernel cannot refuse them; midbot never does, in either kind of folder (both are written by the
 * directory destination), so only `secure`, what it always does, is accepted.
 */
const symlinksSchema = z
  .enum(['secure', 'try-secure', 'insecure'], { error: () => oneOf(['secure']) })
  .refine((mode) => mode === 'secure', {
    message:
      'expected secure: midbot never follows symlinks inside a destination or the storage folder; remove the key or set it to secure',
  });

export const storageSchema = byType(
  [
    strictObject({
      type: z.literal('directory'),
      path: absolutePathSchema,
      symlinks: symlinksSchema.optional(),
    }),
    strictObject({ type: z.literal('memory') }),
  ],
  ['directory', 'memory'],
  'a mapping with type: directory and path, or type: memory',
);

/**
 * tbot's `acls` of a destination: `try` and `required` make tbot check the folder's ACLs before each
 * write. midbot checks none (`off`, the only mode accepted); `midbot init` sets them up once instead.
 */
const aclsSchema = z
  .enum(['off', 'try', 'required'], { error: () => oneOf(['off']) })
  .refine((mode) => mode === 'off', {
    message:
      'expected off: midbot checks no ACLs on a destination; prepare the folder once with `midbot init --destination-dir PATH --bot-user B --reader-user R` (run as root: it sets POSIX ACLs so the bot user writes and only the reader user reads), then remove the key or set it to off',
  });

export const directoryDestinationSchema = strictObject({
  type: z.literal('directory'),
  path: absolutePathSchema,
  symlinks: symlinksSchema.optional(),
  acls: aclsSchema.optional(),
});

export const memoryDestinationSchema = strictObject({ type: z.literal('memory') });

export const secretsManagerDestinationSchema = strictObject({
  type: z.literal('aws_secrets_manager'),
  /** Secret name or full ARN. */
  name: text('a secret name or ARN').refine((value) => SECRET_NAME.test(value) || SECRET_ARN.test(value), {
    message: 'expected a secret name (letters, digits, /_+=.@-, at most 512) or a Secrets Manager ARN',
  }),
  region: text('an AWS region like eu-west-1')
    .regex(AWS_REGION_NAME, 'expected an AWS region like eu-west-1')
    .optional(),
  kms_key_id: text('a KMS key id, alias or ARN').min(1).max(2048).optional(),
});

export const destinationSchema = byType(
  [directoryDestinationSchema, memoryDestinationSchema, secretsManagerDestinationSchema],
  destinationTypes,
  'a mapping with a type (directory, memory or aws_secrets_manager)',
);

const outputCommon = {
  destination: destinationSchema,
  /** A subset of the bot's roles; all of them when absent. */
  roles: list(nameSchema('a role name'), 'a list of role names').optional(),
};

export const identityOutputSchema = strictObject({ type: z.literal('identity'), ...outputCommon });
export const applicationOutputSchema = strictObject({
  type: z.literal('application'),
  ...outputCommon,
  app_name: nameSchema('the app name'),
  specific_tls_naming: flag('true or false').default(false),
});
export const kubernetesOutputSchema = strictObject({
  type: z.literal('kubernetes'),
  ...outputCommon,
  kubernetes_cluster: nameSchema('the Kubernetes cluster name'),
  /** tbot's switch to write the credentials into the kubeconfig rather than an exec plugin: always so here. */
  disable_exec_plugin: flag('true or false')
    .refine((disabled) => disabled, {
      message:
        'expected true: the kubeconfig always holds the credentials themselves (there is no exec plugin to call); remove the key or set it to true',
    })
    .optional(),
});
export const sshHostOutputSchema = strictObject({
  type: z.literal('ssh_host'),
  ...outputCommon,
  principals: list(nameSchema('a host name'), 'a list of host names (principals)').min(
    1,
    'expected at least one host name the certificate is for',
  ),
});

export const outputSchema = byType(
  [identityOutputSchema, applicationOutputSchema, kubernetesOutputSchema, sshHostOutputSchema],
  outputTypes,
  'a mapping with a type (identity, application, kubernetes or ssh_host)',
);

const botConfigShape = {
  version: z.literal('v2', { error: () => 'expected v2' }),
  auth_server: authServerSchema,
  onboarding: onboardingSchema,
  storage: storageSchema,
  outputs: list(outputSchema, 'a list of outputs').default([]),
  /** Milliseconds; `DEFAULT_CERTIFICATE_TTL_MS` when neither it nor `credential_ttl` is given. */
  certificate_ttl: durationSchema.optional(),
  /** tbot v2's name for `certificate_ttl` (v1's, which midbot kept): either may be given, not both. */
  credential_ttl: durationSchema.optional(),
  /** Milliseconds. */
  renewal_interval: renewalIntervalSchema.default(DEFAULT_RENEWAL_INTERVAL_MS),
  oneshot: flag('true or false').default(false),
  /** Where the daemon serves `/livez`, `/readyz` and `/metrics` (tbot's `diag_addr`); none when unset. */
  diag_addr: diagAddrSchema.optional(),
  debug: flag('true or false').optional(),
};

/**
 * The config schema whose cross-field messages name the settings as `names` says: as config keys, or
 * as the flags that set them (`-c FILE` with flags).
 */
export function botConfigSchemaNaming(names: ConfigNames) {
  return strictObject(botConfigShape)
    .superRefine((config, ctx) => {
      if (refuseBothTtlKeys(config, ctx)) return;
      // The rules speak of the key the file holds (a flag's value replaces credential_ttl, see
      // `loadBotConfigWithFlags`, so its name stays).
      const spelled = config.credential_ttl === undefined ? 'certificate_ttl' : 'credential_ttl';
      const naming = spelled === 'credential_ttl' ? { ...names, certificate_ttl: spelled } : names;
      for (const problem of findConfigProblems(withCertificateTtl(config), naming)) {
        const path = problem.path[0] === 'certificate_ttl' ? [spelled] : problem.path;
        ctx.addIssue({ code: 'custom', path, message: problem.message });
      }
    })
    .transform(withCertificateTtl);
}

/** The config with the lifetime under `certificate_ttl`, however the file spelled it. */
function withCertificateTtl<T extends { certificate_ttl?: number; credential_ttl?: number }>({
  certificate_ttl,
  credential_ttl,
  ...rest
}: T): Omit<T, 'certificate_ttl' | 'credential_ttl'> & { certificate_ttl: number } {
  return { ...rest, certificate_ttl: certificate_ttl ?? credential_ttl ?? DEFAULT_CERTIFICATE_TTL_MS };
}

/** Refuses `certificate_ttl` and `credential_ttl` given together; true when it did. */
function refuseBothTtlKeys(
  config: { certificate_ttl?: number | undefined; credential_ttl?: number | undefined },
  ctx: z.RefinementCtx,
): boolean {
  if (config.certificate_ttl === undefined || config.credential_ttl === undefined) return false;
  ctx.addIssue({
    code: 'custom',
    path: ['credential_ttl'],
    message:
      'expected only one of certificate_ttl and credential_ttl: they are the same setting (tbot v2 calls it credential_ttl, v1 certificate_ttl); keep one and remove the other',
  });
  return true;
}

export const botConfigSchema = botConfigSchemaNaming(CONFIG_KEYS);

/**
 * Each key a v2 file holds, checked on its own, none required and no rule across keys: what a file
 * given with flags must pass before the flags fill in what it leaves out.
 */
export const botConfigPartsSchema = strictObject({
  ...botConfigShape,
  onboarding: onboardingFieldsSchema.partial(),
})
  .partial()
  .superRefine((config, ctx) => {
    refuseBothTtlKeys(config, ctx);
  });

export type BotConfig = z.output<typeof botConfigSchema>;
/** The keys a v2 file holds, each checked on its own (`botConfigPartsSchema`). */
export type BotConfigParts = z.output<typeof botConfigPartsSchema>;
export type OutputConfig = BotConfig['outputs'][number];
export type OutputType = OutputConfig['type'];
export type DestinationConfig = OutputConfig['destination'];
export type StorageConfig = BotConfig['storage'];
