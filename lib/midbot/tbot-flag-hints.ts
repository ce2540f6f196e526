import { type Command, Option } from 'commander';
import { ConfigError } from '../core/errors.js';

/**
 * Flags of `tbot start` that `midbot start` has no use for, each with what to do instead: what
 * `KEY_HINTS` does for config keys, so that a command line copied from a Teleport guide gets advice
 * rather than commander's bare "unknown option".
 */
const TBOT_FLAG_HINTS = [
  {
    flags: '--proxy-server <address>',
    hint: 'midbot has no proxy: use --auth-server with the auth service address',
  },
  {
    flags: '--insecure',
    hint: 'midbot always authenticates the auth service and has no insecure mode: pass --ca-pin with the pin printed by `midctl bots add` or `midctl status` (or set onboarding.public_tls: true for an auth service with a publicly trusted certificate)',
  },
] as const;

/**
 * Adds the tbot flags midbot lacks to `command`, hidden from its help and from commander's "did you
 * mean" suggestions; giving one is refused with its hint before the command runs.
 */
export function addTbotFlagHints(command: Command): Command {
  const hinted = TBOT_FLAG_HINTS.map(({ flags, hint }) => ({ option: new Option(flags).hideHelp(), hint }));
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
