import { describe, expect, it } from 'vitest';
import { MemoryDestination } from '../../../lib/bot/destinations/memory-destination.js';
import { DestinationError } from '../../../lib/core/errors.js';

describe('MemoryDestination', () => {
  it('keeps what was written, as copies, and remembers which files are secret', async () => {
    const destination = new MemoryDestination();
    const data = Buffer.from('private key\n');
    await destination.write([
      { name: 'key', data, secret: true },
      { name: 'tlscert', data: 'certificate\n', secret: false },
    ]);
    data.fill(0);
    expect((await destination.read('key'))?.toString()).toBe('private key\n');
    expect((await destination.read('tlscert'))?.toString()).toBe('certificate\n');
    expect(await destination.read('identity')).toBeUndefined();
    expect(destination.names()).toEqual(['key', 'tlscert']);
    expect(destination.isSecret('key')).toBe(true);
    expect(destination.describe()).toBe('memory');
  });

  it('refuses names a directory destination would refuse, and the same name twice', async () => {
    const destination = new MemoryDestination();
    await expect(destination.write([{ name: '../key', data: 'x', secret: true }])).rejects.toBeInstanceOf(
      DestinationError,
    );
    await expect(
      destination.write([
        { name: 'key', data: 'a', secret: true },
        { name: 'key', data: 'b', secret: true },
      ]),
    ).rejects.toThrow(/appears twice/);
    expect(destination.names()).toEqual([]);
  });
});
