import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/**
 * Imports the module named by argv[1] in a fresh process and exits: what a Lambda cold start pays for
 * our code before the first invocation. Node start-up is included on purpose: every process pays it.
 */
const IMPORT_AND_EXIT = 'await import(process.argv[1]);';

/**
 * Imports the module and reports what the import did beyond defining things: the environment variables
 * it read and the handles (sockets, timers, files) it left open. A handler that builds its clients on
 * the first invocation reads and opens nothing here.
 */
const IMPORT_AND_REPORT = `
  const read = new Set();
  process.env = new Proxy(process.env, {
    get: (target, key) => { if (typeof key === 'string') read.add(key); return Reflect.get(target, key); },
  });
  const loaded = await import(process.argv[1]);
  console.log(JSON.stringify({
    handler: typeof loaded.handler,
    env: [...read],
    handles: process.getActiveResourcesInfo(),
  }));
`;

function runNode(code: string, file: string | undefined): Promise<{ ms: number; stdout: string }> {
  const start = performance.now();
  // An empty environment: the import must not depend on the Lambda's settings, and NODE_OPTIONS from
  // the shell would skew the timing.
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', code, ...(file === undefined ? [] : [pathToFileURL(file).href])],
    { env: {}, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`importing ${file ?? '(nothing)'} failed with exit code ${code}:\n${stderr}`));
    });
  });
}

/**
 * Wall time of `runs` fresh processes per file, interleaved (a, b, c, a, b, c, …) so that a slow
 * moment of the machine hits every file alike. `undefined` as a file: node start-up alone.
 */
export async function timeColdImports<K extends string>(
  files: Record<K, string | undefined>,
  runs: number,
): Promise<Record<K, number[]>> {
  const entries = Object.entries(files) as Array<[K, string | undefined]>;
  const samples = Object.fromEntries(entries.map(([key]) => [key, [] as number[]])) as Record<K, number[]>;
  // One untimed round first: the page cache, not the import, would otherwise decide the first sample.
  for (const [, file] of entries) await runNode(file === undefined ? '' : IMPORT_AND_EXIT, file);
  for (let run = 0; run < runs; run += 1) {
    for (const [key, file] of entries) {
      samples[key].push((await runNode(file === undefined ? '' : IMPORT_AND_EXIT, file)).ms);
    }
  }
  return samples;
}

export interface ImportEffects {
  readonly handler: string;
  readonly env: readonly string[];
  readonly handles: readonly string[];
}

/** What importing `file` did besides defining its exports (see IMPORT_AND_REPORT). */
export async function importEffects(file: string): Promise<ImportEffects> {
  const { stdout } = await runNode(IMPORT_AND_REPORT, file);
  return JSON.parse(stdout) as ImportEffects;
}
