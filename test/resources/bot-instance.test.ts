import { describe, expect, it } from 'vitest';
import { parseResource } from '../../lib/resources/resource.js';
import { configErrorOf, withField } from './helpers.js';

const instance = {
  kind: 'bot_instance',
  version: 'v1',
  metadata: { name: '5f0c4c2e-7a51-4c7e-9d7f-1b2a3c4d5e6f' },
  spec: {
    bot_name: 'robot',
    instance_id: '5f0c4c2e-7a51-4c7e-9d7f-1b2a3c4d5e6f',
    previous_instance_id: '0b7d0c57-4b8e-4a55-8f1b-0d4c2a9e8f10',
  },
  status: {
    created_at: '2030-01-01T00:00:00.000Z',
    join_method: 'iam',
    renewable: false,
    generation: 2,
    initial_authentication: {
      auth_at: '2030-01-01T00:00:00.000Z',
      join_method: 'iam',
      join_token_name: 'iam-token',
      generation: 1,
      aws_arn: 'arn:aws:sts::111111111111:assumed-role/ci/i-0abc',
      aws_account: '111111111111',
    },
    latest_authentications: [{ auth_at: '2030-01-01T00:20:00.000Z', join_method: 'iam', generation: 2 }],
    latest_heartbeats: [
      {
        recorded_at: '2030-01-01T00:21:00.000Z',
        hostname: 'ci-runner-7',
        version: '0.1.0',
        uptime_seconds: 60,
        one_shot: true,
      },
    ],
  },
};

const errorOf = (doc: unknown) => configErrorOf(() => parseResource(doc));

describe('bot_instance', () => {
  it('reads what the auth service writes', () => {
    expect(parseResource(instance)).toEqual(instance);
  });

  it('refuses a name other than the instance id', () => {
    expect(errorOf(withField(instance, 'metadata.name', 'other'))).toContain(
      'bot_instance "other": metadata.name: got "other", a bot instance is named after its instance_id',
    );
  });

  it('refuses a recorded name of a token-method token, which is a secret', () => {
    const auth = {
      auth_at: '2030-01-01T00:00:00Z',
      join_method: 'token',
      join_token_name: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
    };
    const message = errorOf(withField(instance, 'status.initial_authentication', auth));
    expect(message).toContain(
      'status.initial_authentication.join_token_name: got (value hidden), a token-method token name is a secret and is never recorded',
    );
    expect(message).not.toContain('f0e1d2c3');
  });

  it.each([
    ['an unknown status key', 'status.last_seen', 'x', 'status: unknown key "last_seen"'],
    [
      'a missing heartbeat list',
      'status.latest_heartbeats',
      undefined,
      'status.latest_heartbeats: got nothing, expected a list',
    ],
    [
      'a negative generation',
      'status.initial_authentication.generation',
      -1,
      'status.initial_authentication.generation: got -1, expected at least 0',
    ],
    [
      'a fractional generation',
      'status.initial_authentication.generation',
      1.5,
      'generation: got 1.5, expected a whole number',
    ],
    [
      'a bad time',
      'status.initial_authentication.auth_at',
      'yesterday',
      'auth_at: got "yesterday", expected an RFC 3339 time',
    ],
    [
      'a heartbeat one_shot string',
      'status.latest_heartbeats',
      [{ ...instance.status.latest_heartbeats[0], one_shot: 'yes' }],
      'status.latest_heartbeats[0].one_shot: got "yes", expected true or false',
    ],
    [
      'a hostname with a newline',
      'status.latest_heartbeats',
      [{ ...instance.status.latest_heartbeats[0], hostname: 'a\nb' }],
      'hostname: got "a\\nb", a line break is not allowed',
    ],
  ])('refuses %s', (_, path, value, expected) => {
    expect(errorOf(withField(instance, path, value))).toContain(expected);
  });
});
