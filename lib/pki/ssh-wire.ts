import { PkiError } from '../core/errors.js';

/** Builds an SSH wire encoding (RFC 4251 section 5). */
export class SshWriter {
  private readonly parts: Buffer[] = [];

  string(value: Buffer | string): this {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    this.uint32(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  uint32(value: number): this {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(value);
    this.parts.push(bytes);
    return this;
  }

  uint64(value: bigint): this {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64BE(value);
    this.parts.push(bytes);
    return this;
  }

  /** A non-negative mpint from its unsigned big-endian magnitude. */
  mpint(magnitude: Buffer): this {
    let start = 0;
    while (start < magnitude.length && magnitude[start] === 0) start++;
    const trimmed = magnitude.subarray(start);
    // Zero is the empty string; a set high bit needs a 0x00 in front or it would read as negative.
    const needsPad = trimmed.length > 0 && (trimmed[0]! & 0x80) !== 0;
    return this.string(needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
  }

  raw(bytes: Buffer): this {
    this.parts.push(bytes);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads an SSH wire encoding strictly: every read is bounds-checked and `end()` refuses leftovers. */
export class SshReader {
  private position = 0;

  constructor(
    private readonly bytes: Buffer,
    private readonly code: string,
    private readonly what: string,
  ) {}

  get offset(): number {
    return this.position;
  }

  string(): Buffer {
    const length = this.uint32();
    return this.take(length);
  }

  /** A string that must be valid UTF-8. */
  text(): string {
    const bytes = this.string();
    try {
      return utf8.decode(bytes);
    } catch (cause) {
      throw new PkiError(this.code, `The ${this.what} contains a string that is not valid UTF-8.`, { cause });
    }
  }

  uint32(): number {
    return this.take(4).readUInt32BE();
  }

  uint64(): bigint {
    return this.take(8).readBigUInt64BE();
  }

  /** A non-negative, minimally encoded mpint; returns its unsigned magnitude. */
  mpint(): Buffer {
    const bytes = this.string();
    const first = bytes[0];
    if (first === undefined) return bytes;
    if ((first & 0x80) !== 0) {
      throw new PkiError(
        this.code,
        `The ${this.what} contains a negative integer where a positive one belongs.`,
      );
    }
    const second = bytes[1];
    if (first === 0 && (second === undefined || (second & 0x80) === 0)) {
      throw new PkiError(this.code, `The ${this.what} contains an integer that is not minimally encoded.`);
    }
    return first === 0 ? bytes.subarray(1) : bytes;
  }

  end(): void {
    if (this.position !== this.bytes.length) {
      throw new PkiError(
        this.code,
        `The ${this.what} has ${this.bytes.length - this.position} unexpected trailing bytes.`,
      );
    }
  }

  private take(length: number): Buffer {
    if (length > this.bytes.length - this.position) {
      throw new PkiError(this.code, `The ${this.what} is truncated.`);
    }
    const slice = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return slice;
  }
}
