import { type CommandResult, runCommand } from './run-command.js';

export interface RunKubectlOptions {
  readonly kubeconfigPath: string;
  /**
   * Discovery cache (`--cache-dir`); give each test its own, since the default lives under `~/.kube` and
   * outlives the stand-in's random port.
   */
  readonly cacheDir: string;
  /** @default 15_000 */
  readonly timeoutMs?: number;
  /** @default 'kubectl' from PATH */
  readonly kubectl?: string;
}

/**
 * Runs the real `kubectl --kubeconfig K --cache-dir C …args` with no `KUBECONFIG` from the environment;
 * killed after `timeoutMs`.
 */
export function runKubectl(args: readonly string[], options: RunKubectlOptions): Promise<CommandResult> {
  const { KUBECONFIG: _ignored, ...env } = process.env;
  return runCommand(
    options.kubectl ?? 'kubectl',
    ['--kubeconfig', options.kubeconfigPath, '--cache-dir', options.cacheDir, ...args],
    { env, timeoutMs: options.timeoutMs ?? 15_000 },
  );
}
