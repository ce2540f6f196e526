import { expect } from 'vitest';
import { JoinError } from '../../../lib/core/errors.js';
import type { IamFixture } from './iam-fixture.js';

export interface Refusal {
  /** STS requests expected in total: 0 for every refusal that must happen before any network I/O. */
  readonly stsRequests: number;
  /** The ARN the audit record must name (refusals after STS vouched for an identity). */
  readonly awsArn?: string;
  /** A fragment of the message the caller gets. */
  readonly message?: string | RegExp;
}

/**
 * Asserts what an operator and a caller would check about a refused join: the error code (and that it
 * is a JoinError), how many requests reached STS, the audit record with the reason and the ARN, and
 * that nothing else stored changed since the fixture's last successful join.
 */
export async function expectRefused(
  fixture: IamFixture,
  attempt: Promise<unknown>,
  code: string,
  refusal: Refusal,
): Promise<JoinError> {
  const error = await attempt.then(
    () => {
      throw new Error(`expected the join to be refused with ${code}, but it succeeded`);
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(JoinError);
  const joinError = error as JoinError;
  expect({ code: joinError.code, message: joinError.message }).toMatchObject({
    code,
    ...(refusal.message === undefined
      ? {}
      : {
          message:
            typeof refusal.message === 'string'
              ? expect.stringContaining(refusal.message)
              : expect.stringMatching(refusal.message),
        }),
  });
  expect(fixture.emulator.requests).toHaveLength(refusal.stsRequests);
  const event = await fixture.lastJoinEvent();
  expect(event).toMatchObject({ type: 'bot.join', join_method: 'iam', outcome: 'failure', code });
  if (refusal.awsArn === undefined) expect(event?.aws_arn).toBeUndefined();
  else expect(event?.aws_arn).toBe(refusal.awsArn);
  // No instance made, renewed or locked, no token spent: only the audit record (and the challenge).
  expect(await fixture.storedState(), 'stored state after the refusal').toBe(fixture.stateAfterLastSuccess());
  return joinError;
}
