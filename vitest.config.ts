import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: end-to-end tests start real processes (sshd, the auth server), so keep workers few.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
