import { VERSION } from '../../version.js';

/**
 * `midctl version`, as `tctl version` starts Teleport's guides: this release, and the Node.js running
 * it (the runtime is what a bug report needs next). It reads nothing and calls no service.
 */
export function showVersion(nodeVersion: string): string {
  return `midctl v${VERSION} node ${nodeVersion}\n`;
}
