import { DestinationError } from '../../core/errors.js';
import type { ArtifactFile, OutputMetadata } from './destination.js';

/**
 * The value of an output's secret (DESIGN, Artifacts): one flat JSON object whose keys are the
 * artifact file names, each holding the file's UTF-8 text, plus these metadata keys. Flat so that ECS
 * can inject one key (`<arn>:tlscert::`) and the consumer library can recreate the folder.
 */
export const SECRET_METADATA_KEYS = ['expires_at', 'issued_at', 'bot', 'output', 'serial'] as const;
export type SecretMetadataKey = (typeof SECRET_METADATA_KEYS)[number];

/** Secrets Manager's quota for one secret value, counted in UTF-8 bytes of the JSON text. */
export const SECRET_VALUE_MAX_BYTES = 65_536;

/**
 * How the agent names a Secrets Manager destination in logs, run summaries and the bot Lambda's
 * `SecondsUntilExpiry` metric (its `Destination` dimension, which the MachineIdBot construct's Expiry
 * alarms watch: here so that synth can name it without loading the SDK).
 */
export function secretsManagerDestinationLabel(secretId: string): string {
  return `aws_secrets_manager ${secretId}`;
}

/** Secret names (not ARNs) as Secrets Manager accepts them. */
export const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
export const SECRET_ARN =
  /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;

// `fatal` so that bytes which are not UTF-8 are refused instead of silently turned into U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Builds the JSON text for one output. Throws `DestinationError` for a file that is not UTF-8 text
 * (all artifacts are PEM, OpenSSH or YAML text; a binary file would be mangled by JSON), for a file
 * named like a metadata key, and for metadata a consumer could not parse.
 */
export function buildSecretValue(files: readonly ArtifactFile[], metadata: OutputMetadata): string {
  checkMetadata(metadata);
  // No prototype: an artifact named `__proto__` must become a key, not vanish into a setter.
  const value: Record<string, string> = Object.create(null);
  for (const file of files) {
    if ((SECRET_METADATA_KEYS as readonly string[]).includes(file.name)) {
      throw new DestinationError(
        'invalid_artifact_name',
        `artifact ${JSON.stringify(file.name)} has the name of a metadata key of the secret (${SECRET_METADATA_KEYS.join(', ')}); this is a bug in the renderer`,
      );
    }
    value[file.name] = fileText(file, metadata.output);
  }
  value['expires_at'] = metadata.expiresAt;
  value['issued_at'] = metadata.issuedAt;
  value['bot'] = metadata.bot;
  value['output'] = metadata.output;
  value['serial'] = metadata.serial;
  return JSON.stringify(value);
}

function fileText(file: ArtifactFile, output: string): string {
  if (typeof file.data === 'string') return file.data;
  try {
    return utf8.decode(file.data);
  } catch (error) {
    throw new DestinationError(
      'binary_artifact',
      `artifact ${JSON.stringify(file.name)} of output ${output} is not UTF-8 text; the Secrets Manager destination stores text files only (the secret is one JSON object of strings)`,
      { cause: error },
    );
  }
}

function checkMetadata(metadata: OutputMetadata): void {
  for (const [field, value] of Object.entries({
    bot: metadata.bot,
    output: metadata.output,
    serial: metadata.serial,
    issuedAt: metadata.issuedAt,
    expiresAt: metadata.expiresAt,
  })) {
    if (typeof value !== 'string' || value === '') {
      throw new DestinationError(
        'invalid_metadata',
        `output metadata field ${field} is missing or empty; this is a bug in the agent`,
      );
    }
  }
  const issued = Date.parse(metadata.issuedAt);
  const expires = Date.parse(metadata.expiresAt);
  if (Number.isNaN(issued) || Number.isNaN(expires) || expires <= issued) {
    throw new DestinationError(
      'invalid_metadata',
      `output ${metadata.output}: issuedAt ${JSON.stringify(metadata.issuedAt)} and expiresAt ${JSON.stringify(metadata.expiresAt)} must be ISO 8601 times with expiresAt later; consumers refresh from them. This is a bug in the agent`,
    );
  }
}
