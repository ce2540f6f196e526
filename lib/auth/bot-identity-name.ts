import { AuthenticationError } from '../core/errors.js';

/**
 * A bot identity certificate names its bot instance and generation in a URI subject alternative name:
 * `mid://<cluster>/bots/<bot>/instances/<instance-id>/generation/<n>`. Output certificates never carry
 * one, which is how the service tells a bot's own identity from the certificates it issued for outputs
 * (an output certificate can never be used to mint more).
 */
export interface BotIdentityName {
  readonly clusterName: string;
  readonly botName: string;
  readonly instanceId: string;
  readonly generation: number;
}

const PATTERN =
  /^mid:\/\/([A-Za-z0-9._-]{1,253})\/bots\/([A-Za-z0-9._-]{1,63})\/instances\/([0-9a-f-]{36})\/generation\/(\d{1,9})$/;

export function botIdentityUri(name: BotIdentityName): string {
  return `mid://${name.clusterName}/bots/${name.botName}/instances/${name.instanceId}/generation/${name.generation}`;
}

/** Reads the bot identity from a certificate's `subjectAltName` text as node's X509Certificate gives it. */
export function parseBotIdentityName(subjectAltName: string | undefined): BotIdentityName {
  const uris = (subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
  const matches = uris.map((uri) => PATTERN.exec(uri)).filter((match) => match !== null);
  const match = matches[0];
  if (matches.length !== 1 || match === undefined) {
    throw new AuthenticationError(
      'not_a_bot_identity',
      'the certificate is not a bot identity certificate; output certificates cannot call the bot API',
    );
  }
  return {
    clusterName: match[1] as string,
    botName: match[2] as string,
    instanceId: match[3] as string,
    generation: Number(match[4]),
  };
}
