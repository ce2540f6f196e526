/** The filesystem calls the destination makes; tests inject failures (ENOSPC, EACCES) through it. */
export interface DirectoryFs {
  lstat(target: string): Promise<{
    isFile(): boolean;
    isDirectory(): boolean;
    isSymbolicLink(): boolean;
    readonly mtimeMs: number;
    readonly uid: number;
    readonly nlink: number;
    readonly dev: number;
    readonly ino: number;
  }>;
  readdir(target: string): Promise<string[]>;
  mkdir(target: string, options: { recursive: boolean; mode: number }): Promise<string | undefined>;
  open(target: string, flags: number, mode?: number): Promise<DirectoryFileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(target: string): Promise<void>;
}

export interface DirectoryFileHandle {
  writeFile(data: string | Uint8Array): Promise<void>;
  readFile(): Promise<Buffer>;
  stat(): Promise<{ isFile(): boolean }>;
  chmod(mode: number): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}
