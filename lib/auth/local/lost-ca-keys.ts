import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { localServerFiles } from './local-server-files.js';

/**
 * Refuses a data directory that holds a cluster's state but not its CA keys (`ca/cas.json` deleted,
 * or left out of a copy or a backup restore). Starting would make new CAs silently: a new CA pin that
 * no bot, node or app trusts, with every bot and token of the old cluster still listed. The auth
 * Lambda refuses the same with `ca_reset`.
 *
 * @throws ConfigError `ca_keys_missing`, naming the files and the ways out
 */
export function refuseLostCaKeys(dataDir: string): void {
  const files = localServerFiles(dataDir);
  const caKeys = join(files.caFolder, 'cas.json');
  if (existsSync(caKeys) || !existsSync(files.database)) return;
  throw new ConfigError(
    'ca_keys_missing',
    `${dataDir} holds a cluster's state (${files.database}) but not its CA keys (${caKeys}): starting would make new CAs, and every bot, node and app that trusts the old ones would refuse this cluster. Restore ${caKeys} from a backup of this data directory; or, to start a new cluster, use a new --data-dir (or remove ${files.database} too, losing its bots, tokens and audit log)`,
  );
}
