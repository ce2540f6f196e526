/**
 * The systemd service that runs `midbot start -c FILE` as a daemon, in the shape of the unit the
 * Teleport guides have you write for tbot (`Type=simple`, `ExecReload` sending SIGHUP), confined to
 * what midbot needs: the file system is read-only to it but for its storage and output folders (and
 * a private /tmp), and it gains no privileges.
 *
 * The hardening leaves out what a Node.js process cannot run under: `MemoryDenyWriteExecute` (V8's
 * JIT writes code), and `PrivateNetwork` or an address allow list (midbot reaches the auth service
 * and AWS).
 */
export interface SystemdUnitSpec {
  /** The unit's name, which tags its journal lines too. */
  readonly name: string;
  readonly description: string;
  readonly user: string;
  readonly group: string;
  /** Whether `user` is root (uid 0): capabilities are then left as they are. */
  readonly root: boolean;
  /** The program and its arguments, absolute paths (checked by the caller: no quote, `\` or `$`). */
  readonly execStart: readonly string[];
  /** The folders midbot writes (storage, directory outputs); each must exist when the service starts. */
  readonly writablePaths: readonly string[];
  /** `NAME=value` pairs (AWS_REGION), plain text. */
  readonly environment: readonly string[];
  /** One run a start (`oneshot: true`), which a timer starts; a daemon otherwise. */
  readonly oneshot: boolean;
}

/** The timer that starts a oneshot service every `intervalMs`, as the daemon would renew. */
export function renderSystemdTimer(spec: { name: string; description: string; intervalMs: number }): string {
  return [
    '[Unit]',
    `Description=${escapeSpecifiers(spec.description)}`,
    '',
    '[Timer]',
    'OnBootSec=1min',
    `OnUnitActiveSec=${Math.max(1, Math.round(spec.intervalMs / 1000))}s`,
    // Hosts started together do not all renew in the same second.
    'RandomizedDelaySec=30s',
    'AccuracySec=1s',
    `Unit=${spec.name}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

export function renderSystemdUnit(spec: SystemdUnitSpec): string {
  const lifecycle = spec.oneshot
    ? // One run, started by the timer; a run that hangs is ended before the next is due.
      { unit: [], service: ['Type=oneshot', 'TimeoutStartSec=5min'] }
    : {
        // midbot retries failed renewals itself and exits on what needs a person (a wrong pin, a
        // refused token), so restarts stop after a few.
        unit: ['StartLimitIntervalSec=10min', 'StartLimitBurst=5'],
        service: [
          'Type=simple',
          // SIGHUP renews and writes every output at once; it does not read the config file again.
          'ExecReload=/bin/kill -HUP $MAINPID',
          'Restart=on-failure',
          'RestartSec=10s',
        ],
      };
  return [
    '[Unit]',
    `Description=${escapeSpecifiers(spec.description)}`,
    'After=network-online.target',
    'Wants=network-online.target',
    ...lifecycle.unit,
    '',
    '[Service]',
    ...lifecycle.service,
    `User=${spec.user}`,
    `Group=${spec.group}`,
    ...spec.environment.map((pair) => `Environment=${quoteWord(escapeSpecifiers(pair))}`),
    `ExecStart=${spec.execStart.map((word, index) => (index === 0 ? quoteWord(escapeSpecifiers(word)) : execArgument(word))).join(' ')}`,
    // A run under way finishes before midbot stops on SIGTERM, within its requests' timeouts.
    'TimeoutStopSec=60s',
    `SyslogIdentifier=${spec.name}`,
    'NoNewPrivileges=yes',
    ...(spec.root ? [] : ['CapabilityBoundingSet=']),
    'ProtectSystem=strict',
    'ProtectHome=read-only',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectProc=invisible',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    // The set systemd keeps for ordinary services; a call outside it fails with EPERM (libuv then
    // falls back, as it does for io_uring) rather than killing the process.
    'SystemCallFilter=@system-service',
    'SystemCallErrorNumber=EPERM',
    'PrivateMounts=yes',
    'RemoveIPC=yes',
    // Files are made 0600 unless a folder's default ACL (midbot init) lets its reader in.
    'UMask=0077',
    ...spec.writablePaths.map((folder) => `ReadWritePaths=${quoteWord(escapeSpecifiers(folder))}`),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** An argument of an `Exec*=` line: specifiers and variables escaped (`%%`, `$$`), quoted if needed. */
export function execArgument(word: string): string {
  return quoteWord(escapeSpecifiers(word).replaceAll('$', '$$$$'));
}

/** In double quotes when it holds anything but plain path characters. */
function quoteWord(word: string): string {
  return /^[A-Za-z0-9@%+=:,./_$-]+$/.test(word) ? word : `"${word.replace(/[\\"]/g, '\\$&')}"`;
}

function escapeSpecifiers(text: string): string {
  return text.replaceAll('%', '%%');
}
