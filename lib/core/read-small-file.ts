import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

const STDIN_FD = 0;

/**
 * Reads a small text file the user named (a token file, a config file) without trusting what the name
 * points at: a FIFO would block the process (it is opened non-blocking), a device such as `/dev/zero`
 * or a multi-gigabyte log would fill the memory (only regular files are read, and at most `maxBytes`).
 *
 * With `followSymlinks: false`, a symlink at `file` itself is refused (`ELOOP`): for files midbot wrote
 * itself as plain files, where a link can only have been put by someone else.
 *
 * @throws an error with `code` `ENOTREGULAR` (not a regular file) or `EFBIG` (over `maxBytes`), or the
 *   errno of the open (`ENOENT`, `EACCES`, `EISDIR`, `ELOOP`…)
 */
export function readSmallFile(
  file: string,
  maxBytes: number,
  options: { followSymlinks?: boolean } = {},
): string {
  return readSmallFileBytes(file, maxBytes, options).toString('utf8');
}

/** {@link readSmallFile}, the bytes as they are (for a caller that checks they are UTF-8 text). */
export function readSmallFileBytes(
  file: string,
  maxBytes: number,
  options: { followSymlinks?: boolean } = {},
): Buffer {
  const noFollow = options.followSymlinks === false ? constants.O_NOFOLLOW : 0;
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | noFollow);
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw codedError('EISDIR', `${file} is a folder`);
    if (!stats.isFile()) throw codedError('ENOTREGULAR', `${file} is not a regular file`);
    if (stats.size > maxBytes) throw codedError('EFBIG', `${file} is ${stats.size} bytes, over ${maxBytes}`);
    // The file may grow between the stat and the read: read at most one byte more than allowed.
    return readAtMost(fd, maxBytes, file);
  } finally {
    closeSync(fd);
  }
}

/**
 * Standard input to its end, refusing more than `maxBytes` as soon as they have come (`EFBIG`), where
 * reading it whole first would fill the memory with `< /dev/zero` or an endless pipe.
 */
export function readSmallStdin(maxBytes: number): Buffer {
  return readAtMost(STDIN_FD, maxBytes, 'standard input');
}

function readAtMost(fd: number, maxBytes: number, what: string): Buffer {
  const buffer = Buffer.alloc(maxBytes + 1);
  let length = 0;
  for (;;) {
    let read: number;
    try {
      read = readSync(fd, buffer, length, buffer.length - length, null);
    } catch (error) {
      // A terminal or pipe opened non-blocking by whoever started us: nothing to read yet.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      continue;
    }
    if (read === 0) break;
    length += read;
    if (length > maxBytes) throw codedError('EFBIG', `${what} is over ${maxBytes} bytes`);
  }
  return buffer.subarray(0, length);
}

/** What kept a file the user named from being read, for a message that says what to do about it. */
export type ReadProblem = 'missing' | 'folder' | 'not_regular' | 'too_large' | 'other';

/** The {@link ReadProblem} behind an error of {@link readSmallFile} (or of any open by path). */
export function readProblemOf(error: unknown): ReadProblem {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ELOOP':
      return 'missing';
    case 'EISDIR':
      return 'folder';
    case 'ENOTREGULAR':
    case 'ENXIO':
      return 'not_regular';
    case 'EFBIG':
      return 'too_large';
    default:
      return 'other';
  }
}

function codedError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}
