import { MemoryBackend } from '../../../lib/auth/storage/memory-backend.js';
import { describeStorageContract } from './storage-contract.js';

describeStorageContract('MemoryBackend', async (clock) => {
  const backend = new MemoryBackend(clock);
  return { backend, cleanup: () => backend.close() };
});
