import type { AddBotResponse } from '../api/admin.js';
import type { BotFacingAddress } from './bot-facing-address.js';
import { describeTtl } from './commands/resources.js';

/** What a new bot instance joins with: a token of its bot, and the cluster it pins. */
export interface JoinTicket {
  readonly bot: string;
  readonly token: AddBotResponse['token'];
  readonly caPin: string;
  readonly clusterName: string;
}

/**
 * The follow-up `tctl bots add` and `tctl bots instances add` print: the token, then a ready midbot
 * command and config for the host where the new instance runs.
 */
export function joinInstructions(ticket: JoinTicket, address: BotFacingAddress, now: number): string {
  const { token, caPin } = ticket;
  const authServer = address.url;
  const lines = [
    `The bot token: ${token.name}`,
    token.join_method === 'token'
      ? `This token ${describeTtl(token.expires, now)}.`
      : `This is the ${token.join_method} token "${token.name}"; it is not a secret.`,
    '',
    ...(address.note === undefined ? [] : [`NOTE: ${address.note}`, '']),
    'Run this midbot command on the host where the bot should run:',
    '',
    '> midbot start \\',
    '   --data-dir=/var/lib/midbot \\',
    '   --destination-dir=/opt/machine-id \\',
    `   --token=${token.name} \\`,
    `   --join-method=${token.join_method} \\`,
    `   --ca-pin=${caPin} \\`,
    `   --auth-server=${authServer}`,
    '',
    'Or use this configuration file (midbot.yaml) with `midbot start -c midbot.yaml`:',
    '',
    'version: v2',
    `auth_server: "${authServer}"`,
    'onboarding:',
    `  join_method: "${token.join_method}"`,
    `  token: "${token.name}"`,
    '  ca_pins:',
    `  - "${caPin}"`,
    'storage:',
    '  type: directory',
    '  path: /var/lib/midbot',
    'outputs:',
    '  - type: identity',
    '    destination:',
    '      type: directory',
    '      path: /opt/machine-id',
    '',
  ];
  return lines.join('\n');
}

/** The same, for scripts (`--format json`). */
export function joinInstructionsJson(
  ticket: JoinTicket,
  address: BotFacingAddress,
  warnings: readonly string[],
): string {
  return `${JSON.stringify(
    {
      bot: ticket.bot,
      token: ticket.token.name,
      join_method: ticket.token.join_method,
      expires: ticket.token.expires ?? null,
      ca_pin: ticket.caPin,
      auth_server: address.url,
      cluster_name: ticket.clusterName,
      ...(address.note === undefined ? {} : { notes: [address.note] }),
      ...(warnings.length === 0 ? {} : { warnings }),
    },
    null,
    2,
  )}\n`;
}
