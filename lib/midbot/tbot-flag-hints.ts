import { type Command, Option } from 'commander';
import { ConfigError } from '../core/errors.js';

interface FlagHint {
  readonly flags: string;
  readonly hint: string;
}

/**
 * Flags of `tbot start` that `midbot start` has no use for, each with what to do instead: what
 * `KEY_HINTS` does for config keys, so that a command line copied from a Teleport guide gets advice
 * rather than commander's bare "unknown option".
 */
export const TBOT_START_FLAG_HINTS: readonly FlagHint[] = [
  {
    flags: '--proxy-server <address>',
    hint: 'midbot has no proxy: use --auth-server with the auth service address',
  },
  {
    flags: '--insecure',
    hint: 'midbot always authenticates the auth service and has no insecure mode: pass --ca-pin with the pin printed by `midctl bots add` or `midctl status` (or set onboarding.public_tls: true for an auth service with a publicly trusted certificate)',
  },
  {
    flags: '--fips',
    hint: "midbot has no FIPS mode (it uses Node.js's OpenSSL, which is no FIPS build): drop --fips",
  },
];

const READER_HINT =
  'midbot sets no ACLs as it writes: prepare the folder once with `midbot init --destination-dir PATH --bot-user BOT --reader-user READER` (as root), which lets that one reader user in and keeps everyone else out (for a group, run the reading service as one user of it)';

/** Flags of tbot's modes (`tbot start identity ...`) that midbot's modes have no use for. */
export const TBOT_MODE_FLAG_HINTS: Readonly<Record<'identity' | 'app' | 'kubernetes', readonly FlagHint[]>> =
  {
    identity: [
      { flags: '--reader-user <user>', hint: READER_HINT },
      { flags: '--reader-group <group>', hint: READER_HINT },
      {
        flags: '--cluster <name>',
        hint: 'midbot serves one cluster, with no leaf clusters: drop --cluster',
      },
      {
        flags: '--ssh-config <mode>',
        hint: 'midbot always writes ssh_config with an identity output (nothing to switch off); drop --ssh-config',
      },
      {
        flags: '--allow-reissue',
        hint: "an identity output's certificate is issued afresh on every renewal anyway; drop --allow-reissue",
      },
    ],
    app: [
      { flags: '--reader-user <user>', hint: READER_HINT },
      { flags: '--reader-group <group>', hint: READER_HINT },
    ],
    kubernetes: [
      { flags: '--reader-user <user>', hint: READER_HINT },
      { flags: '--reader-group <group>', hint: READER_HINT },
    ],
  };

/** The same for `tbot proxy`, whose `--proxy` names the Teleport proxy that midbot does without. */
export const TBOT_PROXY_FLAG_HINTS: readonly FlagHint[] = [
  {
    flags: '--proxy <address>',
    hint: 'midbot has no proxy service: it connects to the app itself; drop --proxy and give the address the app serves on with --app-uri (its spec.uri)',
  },
  {
    flags: '--insecure',
    hint: "midbot proxy always checks the app's server certificate and has no insecure mode: give the CA that signed it with --app-ca FILE",
  },
];

/**
 * Adds the tbot flags of `hints`, which midbot lacks, to `command`, hidden from its help and from
 * commander's "did you mean" suggestions; giving one is refused with its hint before the command runs.
 */
export function addTbotFlagHints(command: Command, hints: readonly FlagHint[]): Command {
  const hinted = hints.map(({ flags, hint }) => ({ option: new Option(flags).hideHelp(), hint }));
  for (const { option } of hinted) command.addOption(option);
  return command.hook('preAction', (self) => {
    const given = self.opts<Record<string, unknown>>();
    for (const { option, hint } of hinted) {
      const value = given[option.attributeName()];
      if (value === undefined) continue;
      const shown = typeof value === 'string' ? `got ${JSON.stringify(value)}, ` : '';
      throw new ConfigError('unsupported_flag', `${option.long}: ${shown}${hint}`);
    }
  });
}
