import type { KeyObject } from 'node:crypto';
import type { BotIdentityResponse } from '../api/bot-identity.js';
import { certificateDer } from '../pki/certificate-der.js';
import { positiveSerialHex } from '../pki/x509-certificate.js';
import { type Bot, botUserName } from '../resources/bot.js';
import type { AuthContext } from './auth-context.js';
import { rememberIssuedBotCertificate } from './bot-certificate.js';
import { type BotIdentityName, botIdentityUri } from './bot-identity-name.js';
import { describeClusterCas } from './cluster-cas.js';
import type { RoleSet } from './role-set.js';

/**
 * Bot identities live an hour unless the bot asks otherwise (its `certificate_ttl`, as tbot's own
 * identity follows it); roles' max_session_ttl caps what it asks.
 */
export const DEFAULT_BOT_IDENTITY_TTL_MS = 3_600_000;

/**
 * Issues a bot's own identity (X.509 + SSH) for one instance and generation, with the bot's roles as
 * the caller resolved them in this request (`resolveRoleSet` with all of `bot.spec.roles`).
 */
export function issueBotIdentity(
  context: AuthContext,
  options: {
    bot: Bot;
    roleSet: RoleSet;
    instanceId: string;
    generation: number;
    renewable: boolean;
    publicKey: KeyObject;
    /** What the bot asked for (`ttl_seconds`). @default DEFAULT_BOT_IDENTITY_TTL_MS */
    ttlMs?: number;
  },
): BotIdentityResponse {
  const { bot, roleSet } = options;
  const validity = context.issuer.validity(
    Math.min(options.ttlMs ?? DEFAULT_BOT_IDENTITY_TTL_MS, roleSet.maxSessionTtlMs()),
  );
  const user = botUserName(bot.metadata.name);
  const identity: BotIdentityName = {
    clusterName: context.clusterName,
    botName: bot.metadata.name,
    instanceId: options.instanceId,
    generation: options.generation,
  };
  const tls = context.issuer.issueClientCertificate({
    publicKey: options.publicKey,
    subject: { commonName: user, organization: roleSet.names },
    uris: [botIdentityUri(identity)],
    validity,
  });
  // The bot's next calls present this certificate, often to this same warm process: spare it the parse.
  rememberIssuedBotCertificate(context.cas.tlsUser, certificateDer(tls.pem), {
    identity,
    serialHex: positiveSerialHex(tls.serialHex),
    publicKey: options.publicKey,
    notBefore: tls.notBefore,
    notAfter: tls.notAfter,
    roles: roleSet.names,
  });
  const sshCert = context.issuer.issueSshUserCertificate({
    publicKey: options.publicKey,
    keyId: user,
    principals: roleSet.logins(),
    validity,
  }).line;
  return {
    cluster_name: context.clusterName,
    bot_name: bot.metadata.name,
    instance_id: options.instanceId,
    generation: options.generation,
    renewable: options.renewable,
    roles: roleSet.names,
    tls_cert: tls.pem,
    ssh_cert: sshCert,
    serial: tls.serialHex,
    issued_at: new Date(context.clock.now()).toISOString(),
    expires_at: tls.notAfter.toISOString(),
    ca: describeClusterCas(context.cas),
  };
}
