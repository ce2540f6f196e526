// Bundles the CLI entries into dist/ so `npx midctl` / `npx midbot` start fast with plain node.
// Dependencies stay external (resolved from node_modules at run time); only our own code is bundled.
import { existsSync } from 'node:fs';
import { build } from 'esbuild';

const candidates = {
  midctl: 'bin/midctl.ts',
  midbot: 'bin/midbot.ts',
  demo: 'scripts/demo.ts',
  bench: 'scripts/bench.ts',
  // The bench's AWS emulators run in a worker thread, which needs a file of its own.
  'bench-aws-emulators': 'scripts/bench/aws-emulators-worker.ts',
  consumer: 'lib/consumer/index.ts',
};
const entries = Object.fromEntries(Object.entries(candidates).filter(([, file]) => existsSync(file)));

await build({
  entryPoints: entries,
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Executables get a shebang; the consumer library is imported, not run, but a comment line is harmless.
  banner: { js: '#!/usr/bin/env node' },
});
