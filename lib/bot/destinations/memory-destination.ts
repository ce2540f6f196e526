import { type ArtifactFile, checkArtifactFiles, checkArtifactName, type Destination } from './destination.js';

/** Keeps artifacts in memory: for tests and for embedding midbot in a process that reads them directly. */
export class MemoryDestination implements Destination {
  private readonly files = new Map<string, { data: Buffer; secret: boolean }>();

  describe(): string {
    return 'memory';
  }

  async write(files: readonly ArtifactFile[]): Promise<void> {
    checkArtifactFiles(files);
    // Copies, so that a caller mutating its buffer later cannot change what was "written".
    for (const file of files) {
      this.files.set(file.name, { data: Buffer.from(file.data), secret: file.secret });
    }
  }

  async read(name: string): Promise<Buffer | undefined> {
    checkArtifactName(name);
    const file = this.files.get(name);
    return file ? Buffer.from(file.data) : undefined;
  }

  /** Names written so far, sorted. */
  names(): string[] {
    return [...this.files.keys()].sort();
  }

  /** Whether `name` was written as secret (undefined when never written). */
  isSecret(name: string): boolean | undefined {
    return this.files.get(name)?.secret;
  }
}
