// Builds the consumer library alone as an installable npm package (default: dist/consumer-package/).
// A Lambda or ECS service that reads a bot's secret then installs the library and the few packages it
// imports at run time, instead of this whole repository with the CDK, SQLite and the CLIs.
//
// The package keeps this repository's name and `exports["./consumer"]`, so the import is the same
// either way: `import { loadIdentity } from 'serverless-machine-id/consumer'`. Its dependencies are
// the bare imports of the bundle and of the type declarations, at the versions this repository uses;
// an import this repository does not list as a dependency stops the build.
//
// Usage: node scripts/build-consumer-package.mjs [--types DIR] [--out DIR]
//   --types  where `tsc -p tsconfig.consumer.json` wrote the declarations (default dist/types)
//   --out    the package folder to write (default dist/consumer-package), replaced whole
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = 'lib/consumer/index.ts';
const TYPES_ENTRY = 'lib/consumer/index.d.ts';

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isBareImport(specifier) {
  return !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.startsWith('node:');
}

/**
 * The modules one declaration file refers to: `import`/`export … from '…'` statements and inline
 * `import("…")` types, which tsc writes for a type it cannot name otherwise. JSDoc lines are skipped:
 * their examples import things too.
 */
function specifiersOf(file) {
  const found = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*(\/\*\*|\*)/.test(line)) continue;
    const statement = /^\s*(?:import|export)\b.*\bfrom\s+(['"])([^'"]+)\1/.exec(line);
    if (statement) found.push(statement[2]);
    for (const inline of line.matchAll(/\bimport\(\s*(['"])([^'"]+)\1\s*\)/g)) found.push(inline[2]);
  }
  return found;
}

/**
 * The declaration files the entry reaches through relative imports, as paths under `typesDir`, and the
 * bare specifiers they import. Only these are shipped: `dist/types` may also hold files an earlier
 * build left there.
 */
function reachableDeclarations(typesDir) {
  const files = new Set();
  const bare = new Set();
  const pending = [TYPES_ENTRY];
  while (pending.length > 0) {
    const relative = pending.pop();
    if (files.has(relative)) continue;
    files.add(relative);
    for (const specifier of specifiersOf(path.join(typesDir, relative))) {
      if (!specifier.startsWith('.')) {
        bare.add(specifier);
        continue;
      }
      const target = path.posix.join(path.posix.dirname(relative), specifier).replace(/\.js$/, '.d.ts');
      if (!existsSync(path.join(typesDir, target)))
        throw new Error(`${relative} imports ${specifier}, but ${target} is not in ${typesDir}`);
      pending.push(target);
    }
  }
  return { files: [...files].sort(), bare };
}

/**
 * Writes the package to `outDir`: `consumer.mjs` (the library bundled, its dependencies external),
 * `types/` (the declarations from `typesDir`), `README.md` and `package.json`. Returns the package.json
 * written.
 */
export async function buildConsumerPackage({ typesDir, outDir }) {
  if (!existsSync(path.join(typesDir, TYPES_ENTRY))) {
    throw new Error(
      `no ${TYPES_ENTRY} under ${typesDir}: run \`npx tsc -p tsconfig.consumer.json\` first (npm run build does)`,
    );
  }
  const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    outfile: path.join(outDir, 'consumer.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    metafile: true,
    logLevel: 'warning',
  });
  const declarations = reachableDeclarations(typesDir);
  for (const file of declarations.files) {
    mkdirSync(path.dirname(path.join(outDir, 'types', file)), { recursive: true });
    cpSync(path.join(typesDir, file), path.join(outDir, 'types', file));
  }
  cpSync(path.join(ROOT, 'lib/consumer/README.md'), path.join(outDir, 'README.md'));

  const imports = new Set(declarations.bare);
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imported of output.imports) if (imported.external) imports.add(imported.path);
  }
  const dependencies = {};
  for (const specifier of [...imports].filter(isBareImport).sort()) {
    const name = packageName(specifier);
    const version = root.dependencies?.[name];
    if (version === undefined) {
      throw new Error(
        `the consumer library imports ${specifier}, which package.json does not list under dependencies: add it there, or stop importing it from lib/consumer`,
      );
    }
    dependencies[name] = version;
  }

  const manifest = {
    name: root.name,
    version: root.version,
    description:
      'The consumer library of serverless Machine ID alone: read a bot output from AWS Secrets Manager, cached and refreshed, and use it for mTLS, ssh or kubectl',
    license: root.license,
    private: true,
    type: 'module',
    engines: root.engines,
    exports: {
      './consumer': { types: `./types/${TYPES_ENTRY}`, default: './consumer.mjs' },
      './package.json': './package.json',
    },
    dependencies,
  };
  writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      types: { type: 'string', default: 'dist/types' },
      out: { type: 'string', default: 'dist/consumer-package' },
    },
  });
  const manifest = await buildConsumerPackage({
    typesDir: path.resolve(values.types),
    outDir: path.resolve(values.out),
  });
  console.log(
    `consumer package: ${values.out} (dependencies: ${Object.keys(manifest.dependencies).join(', ')}); \`npm pack ${values.out}\` makes the file to install`,
  );
}
