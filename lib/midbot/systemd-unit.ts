/**
 * The systemd service that runs `midbot start -c FILE` as a daemon, in the shape of the unit the
 * Teleport guides have you write for tbot (`Type=simple`, `ExecReload` sending SIGHUP), confined to
 * what midbot needs: it may write only its storage and output folders outside /tmp, and gains no
 * privileges.
 */
export interface SystemdUnitSpec {
  readonly description: string;
  readonly user: string;
  readonly group: string;
  /** The program and its arguments, absolute paths. */
  readonly execStart: readonly string[];
  /** The folders midbot writes (storage, directory outputs). */
  readonly writablePaths: readonly string[];
}

/** Where a path under these needs ProtectHome off: `ProtectHome=read-only` would hide its writes. */
const HOME_TREES = ['/home', '/root', '/run/user'];

export function renderSystemdUnit(spec: SystemdUnitSpec): string {
  const underHome = spec.writablePaths.some((folder) =>
    HOME_TREES.some((tree) => folder === tree || folder.startsWith(`${tree}/`)),
  );
  return [
    '[Unit]',
    `Description=${escapeSpecifiers(spec.description)}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${spec.user}`,
    `Group=${spec.group}`,
    `ExecStart=${spec.execStart.map(quoteArgument).join(' ')}`,
    // SIGHUP renews and writes every output at once; it does not read the config file again.
    'ExecReload=/bin/kill -HUP $MAINPID',
    'Restart=on-failure',
    'RestartSec=5s',
    // A run under way finishes before midbot stops on SIGTERM, within its requests' timeouts.
    'TimeoutStopSec=60s',
    'NoNewPrivileges=yes',
    'PrivateTmp=yes',
    'ProtectSystem=full',
    ...(underHome ? [] : ['ProtectHome=read-only']),
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectControlGroups=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    // "-": a folder midbot creates on its first run may not exist yet when the service starts.
    ...spec.writablePaths.map((folder) => `ReadWritePaths=${quoteArgument(`-${folder}`)}`),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * One word of a systemd command line or path list: `%` and `$` doubled (specifiers and variables),
 * and in double quotes when it holds a space or a quote-worthy character.
 */
export function quoteArgument(word: string): string {
  const escaped = escapeSpecifiers(word).replaceAll('$', '$$$$');
  return /^[A-Za-z0-9@%+=:,./_$-]+$/.test(escaped) ? escaped : `"${escaped.replace(/[\\"]/g, '\\$&')}"`;
}

function escapeSpecifiers(text: string): string {
  return text.replaceAll('%', '%%');
}
