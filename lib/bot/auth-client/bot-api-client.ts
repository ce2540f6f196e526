import { type KeyObject, randomBytes } from 'node:crypto';
import type * as z from 'zod';
import { ApiClient, ApiError } from '../../api/api-client.js';
import {
  type BotIdentityResponse,
  botIdentityResponseSchema,
  type RenewRequest,
} from '../../api/bot-identity.js';
import { signBotRequest } from '../../api/bot-request-signature.js';
import type { HeartbeatRequest } from '../../api/heartbeat.js';
import { type JoinChallengeResponse, type JoinRequest, joinChallengeResponseSchema } from '../../api/join.js';
import {
  MAX_OUTPUTS_PER_BATCH,
  type OutputCertificatesRequest,
  type OutputCertificatesResponse,
  outputCertificatesBatchResponseSchema,
  outputCertificatesResponseSchema,
} from '../../api/output-certificates.js';
import { type PingResponse, pingResponseSchema } from '../../api/ping.js';
import { ROUTES } from '../../api/routes.js';
import type { Clock } from '../../core/clock.js';
import { UpstreamError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import { certificateDer } from '../../pki/certificate-der.js';

/** The bot's current identity: what it signs bot calls with. */
export interface SigningIdentity {
  readonly certificatePem: string;
  /** The same certificate as DER, decoded once: every bot call sends it. */
  readonly certificateDer: Buffer;
  readonly privateKey: KeyObject;
}

/** A {@link SigningIdentity} from the identity certificate (PEM) and its private key. */
export function signingIdentity(certificatePem: string, privateKey: KeyObject): SigningIdentity {
  return { certificatePem, certificateDer: certificateDer(certificatePem), privateKey };
}

function parseAnswer<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  return parseWithSchema(schema, value, {
    root: what,
    code: 'bad_response',
    error: (code, message) =>
      new UpstreamError(code, `the auth service sent an unexpected ${what}: ${message}`),
  });
}

/** The agent's side of the wire: public calls (ping, join) and bot calls signed with its identity. */
export class BotApiClient {
  private readonly client: ApiClient;

  constructor(
    readonly authServer: string,
    caPem: string | undefined,
    private readonly clock: Clock,
    timeoutMs = 15_000,
  ) {
    this.client = new ApiClient({
      baseUrl: authServer,
      ...(caPem === undefined ? {} : { ca: caPem }),
      timeoutMs,
    });
  }

  async ping(): Promise<PingResponse> {
    return parseAnswer(
      pingResponseSchema,
      await this.client.call({ method: 'GET', path: ROUTES.ping }),
      'ping answer',
    );
  }

  async challenge(): Promise<JoinChallengeResponse> {
    return parseAnswer(
      joinChallengeResponseSchema,
      await this.client.call({ method: 'POST', path: ROUTES.joinChallenge }),
      'challenge',
    );
  }

  async join(request: JoinRequest): Promise<BotIdentityResponse> {
    return parseAnswer(
      botIdentityResponseSchema,
      await this.client.call({ method: 'POST', path: ROUTES.join, body: request }),
      'join answer',
    );
  }

  private signed(identity: SigningIdentity) {
    return (method: string, path: string, body: Buffer) =>
      signBotRequest(
        { method, path, timestamp: this.clock.now(), nonce: randomBytes(16).toString('hex'), body },
        identity.certificateDer,
        identity.privateKey,
      );
  }

  /** Signed with the identity current at that moment, on the client's kept-alive connections. */
  private botCall(identity: SigningIdentity, path: string, body: unknown): Promise<unknown> {
    return this.client.call({ method: 'POST', path, body, authenticate: this.signed(identity) });
  }

  async renew(identity: SigningIdentity, request: RenewRequest): Promise<BotIdentityResponse> {
    return parseAnswer(
      botIdentityResponseSchema,
      await this.botCall(identity, ROUTES.botRenew, request),
      'renewal answer',
    );
  }

  async issueOutput(
    identity: SigningIdentity,
    request: OutputCertificatesRequest,
  ): Promise<OutputCertificatesResponse> {
    return parseAnswer(
      outputCertificatesResponseSchema,
      await this.botCall(identity, ROUTES.botCertificates, request),
      'output certificates',
    );
  }

  /**
   * The certificates of several outputs in as few calls as the batch limit allows (one for up to
   * {@link MAX_OUTPUTS_PER_BATCH}), in request order: each the output's certificates, or the service's
   * refusal of that output as the {@link ApiError} the single call would have thrown. A failed call
   * rejects as a whole.
   */
  async issueOutputs(
    identity: SigningIdentity,
    requests: readonly OutputCertificatesRequest[],
  ): Promise<Array<OutputCertificatesResponse | ApiError>> {
    const answers: Array<OutputCertificatesResponse | ApiError> = [];
    for (let start = 0; start < requests.length; start += MAX_OUTPUTS_PER_BATCH) {
      const batch = requests.slice(start, start + MAX_OUTPUTS_PER_BATCH);
      const { outputs } = parseAnswer(
        outputCertificatesBatchResponseSchema,
        await this.botCall(identity, ROUTES.botCertificatesBatch, { outputs: batch }),
        'output certificates',
      );
      if (outputs.length !== batch.length) {
        throw new UpstreamError(
          'bad_response',
          `the auth service answered ${outputs.length} outputs for the ${batch.length} asked for`,
        );
      }
      for (const result of outputs) {
        answers.push(
          'certificates' in result
            ? result.certificates
            : new ApiError(result.error.status, result.error.code, result.error.message),
        );
      }
    }
    return answers;
  }

  async heartbeat(identity: SigningIdentity, request: HeartbeatRequest): Promise<void> {
    await this.botCall(identity, ROUTES.botHeartbeat, request);
  }

  close(): void {
    this.client.close();
  }
}
