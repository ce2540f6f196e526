import { DestinationError } from '../../core/errors.js';

/** One file of an output's artifacts, named as tbot names it (`key`, `tlscert`, `kubeconfig.yaml`). */
export interface ArtifactFile {
  readonly name: string;
  readonly data: string | Buffer;
  /** Key material: written with mode 0600 (or for the ACL readers `midbot init` set up), never logged. */
  readonly secret: boolean;
}

/**
 * What was issued, for destinations that store it next to the files (the Secrets Manager destination
 * writes it into the secret's JSON and derives its idempotency token from the serial).
 */
export interface OutputMetadata {
  readonly bot: string;
  /** The output's name in logs: its type plus what it is for (`application grafana`). */
  readonly output: string;
  readonly serial: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
}

/**
 * Where an output's artifacts go: a folder, memory, or a Secrets Manager secret.
 *
 * `write` takes all of an output's files at once and replaces them as one unit as far as the medium
 * allows; on failure the previous artifacts stay in place and a `DestinationError` says what failed.
 */
export interface Destination {
  /** For logs and errors, e.g. `directory /opt/machine-id`. */
  describe(): string;
  write(files: readonly ArtifactFile[], metadata?: OutputMetadata): Promise<void>;
  /** The file's content, or `undefined` when it was never written. */
  read(name: string): Promise<Buffer | undefined>;
  /**
   * Makes sure `write` can succeed, as far as can be told without writing an artifact, before the agent
   * does what it cannot undo (a join spends the single-use token). Leaves every artifact as it was.
   * Absent where nothing can be told ahead (memory, Secrets Manager). @throws DestinationError
   *
   * @param artifactNames the files the output will write (`artifactNames`), to check their places too.
   */
  checkWritable?(artifactNames?: readonly string[]): Promise<void>;
}

/**
 * Artifact names are single path components from a small alphabet: no `/`, no `..`, no NUL, no
 * leading dot (dot names are the directory destination's temporary files).
 */
const ARTIFACT_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

/** Throws `DestinationError('invalid_artifact_name')` unless `name` is a plain file name. */
export function checkArtifactName(name: string): void {
  if (!ARTIFACT_NAME.test(name) || name.includes('..')) {
    throw new DestinationError(
      'invalid_artifact_name',
      `artifact name ${JSON.stringify(name.slice(0, 80))} is not a plain file name (letters, digits, . _ -, no "..", no leading dot); this is a bug in the renderer`,
    );
  }
}

/** Checks every name and that no name appears twice in one write. */
export function checkArtifactFiles(files: readonly ArtifactFile[]): void {
  const seen = new Set<string>();
  for (const file of files) {
    checkArtifactName(file.name);
    if (seen.has(file.name)) {
      throw new DestinationError(
        'invalid_artifact_name',
        `artifact ${JSON.stringify(file.name)} appears twice in one write; this is a bug in the renderer`,
      );
    }
    seen.add(file.name);
  }
}
