import { describe, expect, it } from 'vitest';
import { parseResources } from '../../lib/resources/parse-resources.js';
import { parseResource } from '../../lib/resources/resource.js';
import { configErrorOf, withField } from './helpers.js';

const iam = {
  kind: 'token',
  version: 'v2',
  metadata: { name: 'iam-token', expires: '2030-06-01T12:00:00+02:00', labels: { env: 'ci' } },
  spec: {
    roles: ['Bot'],
    join_method: 'iam',
    bot_name: 'robot',
    allow: [
      { aws_account: '012345678901', aws_arn: 'arn:aws:sts::012345678901:assumed-role/ci/*' },
      { aws_account: '111111111111' },
    ],
  },
};

const secretName = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const single = {
  kind: 'token',
  version: 'v2',
  metadata: { name: secretName },
  spec: { roles: ['Bot'], join_method: 'token', bot_name: 'robot' },
};

const errorOf = (doc: unknown) => configErrorOf(() => parseResource(doc));

describe('token', () => {
  it('reads an iam token and normalises the expiry to UTC ISO form', () => {
    expect(parseResource(iam)).toEqual({
      ...iam,
      metadata: { ...iam.metadata, expires: '2030-06-01T10:00:00.000Z' },
    });
  });

  it('accepts a leap day and fractional seconds', () => {
    const token = parseResource(withField(iam, 'metadata.expires', '2032-02-29T23:59:59.123456Z'));
    expect(token.kind === 'token' && token.metadata.expires).toBe('2032-02-29T23:59:59.123Z');
  });

  it('reads a single-use token', () => {
    expect(parseResource(single)).toEqual(single);
  });

  it('reads an expiry written as a YAML timestamp', () => {
    const text = `kind: token\nversion: v2\nmetadata:\n  name: iam-token\n  expires: !!timestamp 2030-01-01T00:00:00Z\nspec:\n  roles: [Bot]\n  join_method: iam\n  bot_name: robot\n  allow: [{aws_account: "111111111111"}]\n`;
    const [token] = parseResources(text, 'token.yaml');
    expect(token?.kind === 'token' && token.metadata.expires).toBe('2030-01-01T00:00:00.000Z');
  });

  it('also reads the expiry unquoted', () => {
    const text = `kind: token\nversion: v2\nmetadata:\n  name: iam-token\n  expires: 2030-01-01T00:00:00Z\nspec:\n  roles: [Bot]\n  join_method: iam\n  bot_name: robot\n  allow: [{aws_account: "111111111111"}]\n`;
    const [token] = parseResources(text, 'token.yaml');
    expect(token?.kind === 'token' && token.metadata.expires).toBe('2030-01-01T00:00:00.000Z');
  });

  it.each(['2030-01-01', 'tomorrow', '2030-13-01T00:00:00Z', '2030-01-01T00:00:00'])(
    'refuses the expiry %j',
    (expires) => {
      expect(errorOf(withField(iam, 'metadata.expires', expires))).toContain(
        `token "iam-token": metadata.expires: got ${JSON.stringify(expires)}, expected an RFC 3339 time such as "2030-01-01T00:00:00Z"`,
      );
    },
  );

  it('refuses an iam token without allow rules', () => {
    const message =
      'token "iam-token": spec.allow: got nothing, an iam token needs at least one allow rule naming the AWS account that may join';
    expect(errorOf(withField(iam, 'spec.allow', undefined))).toContain(message);
    expect(errorOf(withField(iam, 'spec.allow', []))).toContain(
      'spec.allow: got an empty list, an iam token needs at least one allow rule',
    );
  });

  it('refuses an allow rule without aws_account', () => {
    expect(
      errorOf(withField(iam, 'spec.allow', [{ aws_arn: 'arn:aws:sts::111111111111:assumed-role/ci/*' }])),
    ).toContain('spec.allow[0].aws_account: got nothing, expected a 12-digit AWS account ID in quotes');
  });

  it('refuses an aws_account YAML read as a number, with the hint to quote it', () => {
    const text = `kind: token\nversion: v2\nmetadata: {name: iam-token}\nspec:\n  roles: [Bot]\n  join_method: iam\n  bot_name: robot\n  allow:\n    - aws_account: 012345678901\n`;
    expect(configErrorOf(() => parseResources(text, 'token.yaml'))).toBe(
      'token.yaml: token "iam-token": spec.allow[0].aws_account (line 9): got 12345678901, AWS account IDs must be quoted so YAML keeps them as text, with any leading zeros: write aws_account: "123456789012"',
    );
  });

  it.each(['11111111111', '1111111111111', 'abcdefghijkl', '1111-1111-1111'])(
    'refuses the account %j',
    (account) => {
      expect(errorOf(withField(iam, 'spec.allow', [{ aws_account: account }]))).toContain(
        `spec.allow[0].aws_account: got ${JSON.stringify(account)}, expected a 12-digit AWS account ID`,
      );
    },
  );

  it('refuses an ARN that is not one, or that names another account', () => {
    expect(
      errorOf(withField(iam, 'spec.allow', [{ aws_account: '111111111111', aws_arn: 'teleport-bot-role' }])),
    ).toContain('spec.allow[0].aws_arn: got "teleport-bot-role", expected an IAM or STS ARN');
    expect(
      errorOf(
        withField(iam, 'spec.allow', [
          { aws_account: '111111111111', aws_arn: 'arn:aws:sts::222222222222:assumed-role/x/y' },
        ]),
      ),
    ).toContain(
      'spec.allow[0].aws_arn: got "arn:aws:sts::222222222222:assumed-role/x/y", the ARN is in account 222222222222 but aws_account is 111111111111',
    );
    expect(
      errorOf(
        withField(iam, 'spec.allow', [
          { aws_account: '111111111111', aws_arn: 'arn:aws:sts::111111111111:assumed-role/x y' },
        ]),
      ),
    ).toContain('a space is not allowed in an ARN');
  });

  it.each([[['Bot', 'Node']], [['Node']], [['bot']], [[]]])('refuses roles %j: only Bot for now', (roles) => {
    expect(errorOf(withField(iam, 'spec.roles', roles))).toContain(
      `token "iam-token": spec.roles: got ${roles.length === 0 ? 'an empty list' : 'a list'}, only bot join tokens are supported for now; write roles: [Bot]`,
    );
  });

  it('refuses an unknown join method', () => {
    expect(errorOf(withField(iam, 'spec.join_method', 'ec2'))).toContain(
      'spec.join_method: got "ec2", expected one of "token", "iam"',
    );
  });

  it('refuses allow rules on a token-method token', () => {
    expect(errorOf(withField(single, 'spec.allow', [{ aws_account: '111111111111' }]))).toContain(
      'spec.allow: got a list, allow rules only apply to iam tokens; remove allow or set join_method: iam',
    );
  });

  it('never echoes the name of a token-method token, which is its secret', () => {
    const message = errorOf(
      withField(withField(single, 'metadata.name', `${secretName},x`), 'spec.bot_name', 'a b'),
    );
    expect(message).toContain(
      'token (name hidden): metadata.name: got (value hidden), "," is not allowed in a name',
    );
    expect(message).not.toContain(secretName);
  });

  it('refuses a guessable name for a token-method token', () => {
    const message = errorOf(withField(single, 'metadata.name', 'abc123'));
    expect(message).toContain(
      "metadata.name: got (value hidden), a token-method token's name is its secret and must be at least 32 random characters",
    );
    expect(message).not.toContain('abc123');
  });

  it.each([
    ['metadata', 'metadata.uid', 'x', 'metadata: unknown key "uid"'],
    ['spec', 'spec.bot', 'robot', 'spec: unknown key "bot"'],
    [
      'allow rule',
      'spec.allow',
      [{ aws_account: '111111111111', aws_role: 'x' }],
      'spec.allow[0]: unknown key "aws_role"',
    ],
  ])('refuses an unknown key in the %s', (_, path, value, expected) => {
    expect(errorOf(withField(iam, path, value))).toContain(expected);
  });

  it('refuses a bad bot name', () => {
    expect(errorOf(withField(iam, 'spec.bot_name', 'robot\n'))).toContain(
      'spec.bot_name: got "robot\\n", a line break is not allowed in a name',
    );
  });

  it('refuses a bot name too long for the bot to exist (its certificates name it bot-<name>)', () => {
    expect(errorOf(withField(iam, 'spec.bot_name', 'b'.repeat(61)))).toContain(
      'spec.bot_name: got "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", the name is 61 characters long; a bot\'s name is at most 60 characters',
    );
    expect(parseResource(withField(iam, 'spec.bot_name', 'b'.repeat(60)))).toBeDefined();
  });
});
