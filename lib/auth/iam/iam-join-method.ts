import type { JoinRequest } from '../../api/join.js';
import { ConfigError } from '../../core/errors.js';
import type { Token } from '../../resources/token.js';
import type { AuthContext } from '../auth-context.js';
import { awaitAll } from '../await-all.js';
import { lockedInstanceCode, lockedInstanceMessage, type StoredInstance } from '../bot-instance-store.js';
import type { JoinMethod, JoinProof, StartedJoin } from '../join-service.js';
import type { JoinReads } from '../request-reads.js';
import type { Revisioned } from '../resource-store.js';
import { HttpStsClient } from './http-sts-client.js';
import { authorizeAwsIdentity } from './iam-allow-rules.js';
import { certifiedInstance, findContinuedInstance, rememberIamInstance } from './iam-instance-continuity.js';
import { IamJoinError, StsUnavailableError } from './iam-join-error.js';
import { findJoinChallenge, spendJoinChallenge } from './join-challenges.js';
import { validateSignedStsRequest } from './signed-sts-request.js';
import { readGetCallerIdentityAnswer } from './sts-answer.js';
import { type StsAnswer, StsCallError, type StsCaller } from './sts-caller.js';

export interface IamJoinOptions {
  /**
   * How the service reaches STS.
   * @default an {@link HttpStsClient} with `stsTimeoutMs` and `stsEndpointOverrideForTests`
   */
  readonly sts?: StsCaller;
  /** Refuse signed requests for endpoints that are not FIPS validated. @default false */
  readonly requireFips?: boolean;
  /** Deadline of the STS call when `sts` is not given. @default 5000 */
  readonly stsTimeoutMs?: number;
  /**
   * TESTS ONLY: where the default STS client connects (a loopback URL, see {@link HttpStsClient}).
   * The host checks still run on the host the client signed for.
   * @default undefined
   */
  readonly stsEndpointOverrideForTests?: string;
}

/**
 * The `iam` join method (SECURITY rules 1–6): the bot proves its AWS identity with a signed
 * `sts:GetCallerIdentity` request that carries a single-use challenge and this cluster's name in signed
 * headers. The service checks every part of it, spends the challenge, sends a request it builds
 * itself to the allowlisted STS host, reads the answer strictly and matches the token's allow rules.
 *
 * ARNs are names: a role deleted and re-created under the same name matches the same `aws_arn`. An
 * allow rule may pin the role's unique id (`aws_role_id`, the `AROA…` part of STS's UserId), which a
 * re-created role does not share.
 *
 * @example
 * const service = await AuthService.create({ ...options, joinMethods: [iamJoinMethod()] });
 */
export function iamJoinMethod(options: IamJoinOptions = {}): JoinMethod {
  if (options.sts !== undefined && options.stsEndpointOverrideForTests !== undefined) {
    throw new ConfigError(
      'invalid_iam_join_options',
      'give either an STS caller or an STS endpoint override for tests, not both',
    );
  }
  const sts =
    options.sts ??
    new HttpStsClient({
      ...(options.stsTimeoutMs === undefined ? {} : { timeoutMs: options.stsTimeoutMs }),
      ...(options.stsEndpointOverrideForTests === undefined
        ? {}
        : { stsEndpointOverrideForTests: options.stsEndpointOverrideForTests }),
    });
  return {
    name: 'iam',
    async begin(
      context: AuthContext,
      tokenRead: Promise<Revisioned<Token>>,
      request: JoinRequest,
      reads: JoinReads,
    ): Promise<StartedJoin> {
      if (request.iam === undefined) {
        throw new IamJoinError(
          'sts_request_malformed',
          'an iam join must carry the signed STS GetCallerIdentity request in "iam"; the agent adds it when onboarding.join_method is iam',
        );
      }
      // Everything about the request is checked before any I/O; the challenge is spent before STS
      // is asked, so a replayed request never reaches STS.
      const validated = validateSignedStsRequest(request.iam, {
        clusterName: context.clusterName,
        requireFips: options.requireFips === true,
      });
      // Only reads until `prove`, alongside the token: the challenge, and the instance a presented
      // certificate names (and its bot and the bot's lock, which the service reads next), whose
      // continuation is decided once STS has said whose the request is.
      const certified = certifiedInstance(context, request.previous_certificate);
      if (certified !== undefined) {
        // Settled by the service's own reads of the bot and its lock; a failure is reported there.
        reads.get('bot', certified.botName).catch(() => undefined);
        reads.botLock(certified.botName).catch(() => undefined);
      }
      const [token, challenge, instance] = await awaitAll([
        tokenRead,
        findJoinChallenge(context, validated.challenge),
        certified === undefined
          ? Promise.resolve(undefined)
          : context.instances.get(certified.botName, certified.instanceId),
      ]);
      const botName = token.resource.spec.bot_name;
      const presented = certified?.botName === botName ? instance : undefined;
      return {
        async prove(admitted) {
          // Spent alongside the roles read: the agent asks for a fresh challenge on every join anyway.
          // STS is only asked once the roles are found.
          await awaitAll([admitted, spendJoinChallenge(context, challenge)]);
          const answer = await callSts(sts, {
            host: validated.endpoint.host,
            headers: validated.headers,
            body: validated.body,
          });
          const identity = readGetCallerIdentityAnswer(answer, validated.endpoint);
          authorizeAwsIdentity(token.resource, identity);
          const awsArn = identity.principal.arn;
          const continued = await findContinuedInstance(context, botName, awsArn, presented);
          refuseLocked(continued, awsArn);
          return {
            awsArn,
            awsAccount: identity.principal.account,
            ...(continued === undefined ? {} : { continueInstance: continued }),
          };
        },
      };
    },
    async remember(context: AuthContext, token: Token, proof: JoinProof, instanceId: string): Promise<void> {
      if (proof.awsArn !== undefined) {
        await rememberIamInstance(context, token.spec.bot_name, proof.awsArn, instanceId);
      }
    },
  };
}

/** Checked here as well as by the join service so that the refusal is audited with the ARN. */
function refuseLocked(continued: StoredInstance | undefined, awsArn: string): void {
  const locked = continued?.record.locked;
  if (continued === undefined || locked === undefined) return;
  const { bot_name, instance_id } = continued.record;
  throw new IamJoinError(
    lockedInstanceCode(locked),
    lockedInstanceMessage(
      continued.record,
      locked,
      `an operator must remove it with \`midctl rm bot_instance/${bot_name}/${instance_id}\``,
      awsArn,
    ),
    { awsArn },
  );
}

async function callSts(sts: StsCaller, request: Parameters<StsCaller['send']>[0]): Promise<StsAnswer> {
  try {
    return await sts.send(request);
  } catch (error) {
    if (error instanceof StsCallError && error.code === 'sts_response_too_large') {
      throw new IamJoinError('sts_response_invalid', `STS's answer was refused: ${error.message}`, {
        cause: error,
      });
    }
    const reason = error instanceof StsCallError ? error.message : 'STS could not be reached';
    throw new StsUnavailableError(`${reason}; the challenge is spent, so get a new one and retry`, {
      cause: error,
    });
  }
}
