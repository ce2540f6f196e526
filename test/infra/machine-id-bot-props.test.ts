import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { MachineIdAuth, type MachineIdAuthProps } from '../../lib/infra/machine-id-auth.js';
import { MachineIdBot, type MachineIdBotProps } from '../../lib/infra/machine-id-bot.js';
import { cdkContext, INLINE_CODE, newStack, propsErrorOf } from './support.js';

const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/**
 * A stack with an auth service (`authProps` over the defaults) and a bot with `patch` over valid props;
 * a `patch` given as a function is made in the stack, for props that are constructs of their own.
 */
function stackWithBot(
  patch: Partial<MachineIdBotProps> | ((stack: Stack) => Partial<MachineIdBotProps>),
  authProps: Partial<MachineIdAuthProps> = {},
): Stack {
  const stack = newStack();
  const auth = new MachineIdAuth(stack, 'Auth', { code: INLINE_CODE, ...authProps });
  new MachineIdBot(stack, 'Bot', {
    auth,
    botName: 'ci',
    roles: ['access'],
    outputs: [{ name: 'ssh', type: 'identity' }],
    code: INLINE_CODE,
    ...(typeof patch === 'function' ? patch(stack) : patch),
  });
  return stack;
}

/** The refusal of a bot with `patch` over valid props; construction alone validates, no synth needed. */
function botError(patch: Partial<MachineIdBotProps>): string {
  return propsErrorOf(() => stackWithBot(patch));
}

describe('MachineIdBot props', () => {
  it('refuses a renewal interval that is not shorter than the certificate TTL, naming both and the fix', () => {
    expect(botError({ renewalInterval: Duration.hours(1) })).toBe(
      'Test/Bot: renewalInterval (1 hour) must be shorter than certificateTtl (1 hour), or certificates expire before they are renewed; lower renewalInterval or raise certificateTtl; keeping renewalInterval and flexibleTimeWindow, certificateTtl must be over 1 hour 10 minutes',
    );
    expect(
      botError({ renewalInterval: Duration.minutes(30), certificateTtl: Duration.minutes(20) }),
    ).toContain('renewalInterval (30 minutes) must be shorter than certificateTtl (20 minutes)');
  });

  it('refuses a flexible window that lets a run start after the certificates expired', () => {
    expect(
      botError({ renewalInterval: Duration.minutes(50), flexibleTimeWindow: Duration.minutes(10) }),
    ).toContain(
      'renewalInterval (50 minutes) plus flexibleTimeWindow (10 minutes) must be shorter than certificateTtl (1 hour)',
    );
  });

  it('refuses a renewal interval under 10 minutes, which would fill the secrets’ version quota', () => {
    expect(botError({ renewalInterval: Duration.minutes(5) })).toBe(
      "Test/Bot: renewalInterval is 5 minutes; use at least 10 minutes: each run puts a new version of every output secret, and Secrets Manager keeps versions younger than a day, so writing more often than every 10 minutes fills a secret's version quota and the bot's writes start failing",
    );
  });

  it('refuses a certificate TTL whose fresh certificates would already set off the Expiry alarm', () => {
    expect(
      botError({
        renewalInterval: Duration.minutes(20),
        flexibleTimeWindow: Duration.minutes(0),
        certificateTtl: Duration.minutes(30),
      }),
    ).toBe(
      "Test/Bot: certificateTtl (30 minutes) must be longer than renewalInterval plus 10 minutes (30 minutes): each output's Expiry alarm fires when its certificates have less than that left, which freshly written ones would, so it would never clear; raise certificateTtl or lower renewalInterval; keeping renewalInterval and flexibleTimeWindow, certificateTtl must be over 30 minutes",
    );
  });

  it('keeps the Expiry alarm of day-long certificates within the day CloudWatch looks back', () => {
    const stack = stackWithBot({ certificateTtl: Duration.hours(30) });
    const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm', {
      Properties: { MetricName: 'SecondsUntilExpiry' },
    });
    const [alarm] = Object.values(alarms) as Array<{
      Properties: { Period: number; EvaluationPeriods: number };
    }>;
    expect(alarm?.Properties.Period).toBe(300);
    expect(alarm?.Properties.EvaluationPeriods).toBe(288);
  });

  it("sizes an output's Expiry alarm from the lifetime a role caps its certificates at, and warns of the cap", () => {
    const stack = stackWithBot(
      {
        roles: ['short', 'long'],
        certificateTtl: Duration.hours(2),
        outputs: [
          { name: 'capped', type: 'identity' },
          { name: 'free', type: 'identity', roles: ['long'] },
        ],
      },
      {
        resources: `kind: role
version: v7
metadata: {name: short}
spec: {options: {max_session_ttl: 1h}, allow: {logins: [root]}}
---
kind: role
version: v7
metadata: {name: long}
spec: {allow: {logins: [deploy]}}
`,
      },
    );
    const periods = (output: string) => {
      const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm', {
        Properties: {
          MetricName: 'SecondsUntilExpiry',
          AlarmDescription: Match.stringLikeRegexp(`output "${output}"`),
        },
      });
      return (Object.values(alarms)[0] as { Properties: { EvaluationPeriods: number } }).Properties
        .EvaluationPeriods;
    };
    // 1 h certificates cross the 30 min threshold 30 min after the last write: 6 periods of 5 min,
    // not the 18 that 2 h certificates would take (the alarm would fire half an hour after expiry).
    expect(periods('capped')).toBe(6);
    expect(periods('free')).toBe(18);
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('caps its certificates'),
    );
    expect(warnings.map((warning) => warning.entry.data)).toEqual([
      'output "capped": role "short" caps its certificates at 1 hour (max_session_ttl), below the 2 hours of certificateTtl (certificate_ttl in a deployment file): they live 1 hour, and its Expiry alarm is sized for that. Set certificateTtl (certificate_ttl in a deployment file) to 1 hour or less to say so, or raise the role\'s max_session_ttl [ack: machine-id:certificate-ttl-capped]',
    ]);
  });

  it('refuses a renewal interval that is not whole minutes', () => {
    expect(botError({ renewalInterval: Duration.seconds(90) })).toContain(
      'renewalInterval is 1 minute 30 seconds; EventBridge Scheduler runs at whole minutes',
    );
  });

  it('refuses a bad bot name, naming it and the rule', () => {
    expect(botError({ botName: 'ci bot' })).toBe(
      'Test/Bot: botName "ci bot" cannot be used: a space is not allowed in a name; a name is 1 to 63 letters, digits, ".", "_" or "-", starts with a letter or digit and has no ".."',
    );
    expect(botError({ botName: 'b'.repeat(60) })).toContain(
      `is 60 characters long; at most 59, so that its join token "${'b'.repeat(60)}-iam" is a valid name`,
    );
    // Past 63 characters too, the limit told is the bot's, not the general one a shortened name would still break.
    expect(botError({ botName: 'b'.repeat(70) })).toContain('is 70 characters long; at most 59');
  });

  it('refuses a secret name prefix Secrets Manager would refuse, naming the character or the length', () => {
    expect(botError({ secretNamePrefix: 'machine id/' })).toBe(
      'Test/Bot: secretNamePrefix "machine id/" cannot start a secret name: a space is not allowed; use letters, digits and / _ + = . @ -',
    );
    expect(botError({ secretNamePrefix: 'p/'.repeat(255) })).toBe(
      'Test/Bot: secretNamePrefix is 510 characters long, so the secret of output "ssh" would have a name of 513; Secrets Manager takes at most 512, so shorten secretNamePrefix',
    );
  });

  it("refuses a secret name prefix that the output names would run into, in the construct's words", () => {
    expect(botError({ secretNamePrefix: 'machine-id' })).toBe(
      'Test/Bot: secretNamePrefix "machine-id" does not end in a separator, so the secret of output "ssh" would be named "machine-idssh"; end it with "/" ("machine-id/", making "machine-id/ssh"), or another of _ + = . @ - for names without folders',
    );
    for (const secretNamePrefix of ['machine-id/', 'prod-', '']) {
      expect(() => stackWithBot({ secretNamePrefix })).not.toThrow();
    }
  });

  it('refuses a bot without outputs, showing what one looks like', () => {
    expect(botError({ outputs: [] })).toBe(
      'Test/Bot: outputs is empty; a bot needs at least one output, e.g. outputs: [{ name: "identity", type: "identity" }]',
    );
  });

  it('refuses a bot without roles', () => {
    expect(botError({ roles: [] })).toContain('roles is empty; a bot needs at least one role');
  });

  it('refuses an output that asks for a role the bot does not hold', () => {
    expect(botError({ outputs: [{ name: 'ssh', type: 'identity', roles: ['admin'] }] })).toContain(
      'outputs[0].roles: the bot does not hold role "admin"; an output may only ask for roles the bot has (access)',
    );
    expect(botError({ outputs: [{ name: 'ssh', type: 'identity', roles: [] }] })).toBe(
      "Test/Bot: outputs[0].roles: no role is asked for; remove it to use all the bot's roles, or list some",
    );
  });

  it('refuses type-specific fields that are missing or on the wrong type', () => {
    expect(botError({ outputs: [{ name: 'app', type: 'application' }] })).toContain(
      'outputs[0]: an output of type application needs appName, the name of the `app` resource',
    );
    expect(botError({ outputs: [{ name: 'kube', type: 'kubernetes' }] })).toContain(
      'outputs[0]: an output of type kubernetes needs kubernetesCluster',
    );
    expect(botError({ outputs: [{ name: 'host', type: 'ssh_host', principals: [] }] })).toContain(
      'outputs[0]: an ssh_host output needs principals',
    );
    expect(botError({ outputs: [{ name: 'ssh', type: 'identity', appName: 'grafana' }] })).toContain(
      'outputs[0]: appName only applies to application outputs, and this one is identity; remove appName or set type: application',
    );
  });

  it('refuses two outputs with one name, and an unknown type', () => {
    expect(
      botError({
        outputs: [
          { name: 'ssh', type: 'identity' },
          { name: 'ssh', type: 'identity' },
        ],
      }),
    ).toContain('outputs[1].name "ssh" is used twice');
    expect(botError({ outputs: [{ name: 'x', type: 'database' as never }] })).toContain(
      'outputs[0].type "database" is not an output type; use one of identity, application, kubernetes, ssh_host',
    );
  });

  it('refuses two bots with one name on one auth', () => {
    const stack = newStack();
    const auth = new MachineIdAuth(stack, 'Auth', { code: INLINE_CODE });
    const props = {
      auth,
      botName: 'ci',
      roles: ['access'],
      outputs: [{ name: 'ssh', type: 'identity' as const }],
      code: INLINE_CODE,
    };
    new MachineIdBot(stack, 'One', props);
    expect(propsErrorOf(() => new MachineIdBot(stack, 'Two', props))).toContain(
      'a bot named "ci" is already registered with this auth',
    );
  });

  it('refuses a bot in another stack than its auth', () => {
    const authStack = newStack('AuthStack');
    const auth = new MachineIdAuth(authStack, 'Auth', { code: INLINE_CODE });
    const botStack = newStack('BotStack');
    expect(
      propsErrorOf(
        () =>
          new MachineIdBot(botStack, 'Bot', {
            auth,
            botName: 'ci',
            roles: ['access'],
            outputs: [{ name: 'ssh', type: 'identity' }],
            code: INLINE_CODE,
          }),
      ),
    ).toContain("create the bot in the auth's stack");
  });

  it('refuses a reader given twice, at the second, naming the first', () => {
    const app = new iam.ArnPrincipal('arn:aws:iam::123456789012:role/dashboard-exporter');
    const backup = new iam.ArnPrincipal('arn:aws:iam::123456789012:role/backup');
    expect(
      botError({
        readers: [app, backup, new iam.ArnPrincipal('arn:aws:iam::123456789012:role/dashboard-exporter')],
      }),
    ).toBe(
      'Test/Bot: readers[2]: arn:aws:iam::123456789012:role/dashboard-exporter is listed already as readers[0]; list each reader once (if one of them was meant to be another principal, put that one there)',
    );
    // A role of the app is one reader however it is passed: itself, or its ARN.
    const stack = newStack();
    const role = new iam.Role(stack, 'Exporter', { assumedBy: new iam.AccountRootPrincipal() });
    const auth = new MachineIdAuth(stack, 'Auth', { code: INLINE_CODE });
    const withReaders = (id: string, readers: iam.IPrincipal[]) => () =>
      new MachineIdBot(stack, id, {
        auth,
        botName: id.toLowerCase(),
        roles: ['access'],
        outputs: [{ name: 'ssh', type: 'identity' }],
        readers,
        code: INLINE_CODE,
      });
    expect(propsErrorOf(withReaders('Twice', [role, role]))).toMatch(
      /^Test\/Twice: readers\[1\]: Test\/Exporter is listed already as readers\[0\]/,
    );
    expect(propsErrorOf(withReaders('Arn', [role, new iam.ArnPrincipal(role.roleArn)]))).toContain(
      'readers[1]: ',
    );
  });

  it('accepts different readers, and one reader for two bots', () => {
    const app = new iam.ArnPrincipal('arn:aws:iam::123456789012:role/dashboard-exporter');
    const backup = new iam.ArnPrincipal('arn:aws:iam::123456789012:role/backup');
    const stack = stackWithBot({ readers: [app, backup] });
    const auth = stack.node.findChild('Auth') as MachineIdAuth;
    expect(
      () =>
        new MachineIdBot(stack, 'Other', {
          auth,
          botName: 'cd',
          roles: ['access'],
          outputs: [{ name: 'ssh', type: 'identity' }],
          readers: [app],
          code: INLINE_CODE,
        }),
    ).not.toThrow();
  });

  it("refuses a kmsKey of another region than the stack's, naming both regions and the fix", () => {
    const stack = new Stack(new App({ context: cdkContext() }), 'Test', {
      env: { account: '123456789012', region: 'eu-central-1' },
    });
    const auth = new MachineIdAuth(stack, 'Auth', { code: INLINE_CODE });
    const bot = (id: string, kmsKey: kms.IKey) => () =>
      new MachineIdBot(stack, id, {
        auth,
        botName: id.toLowerCase(),
        roles: ['access'],
        outputs: [{ name: 'ssh', type: 'identity' }],
        kmsKey,
        code: INLINE_CODE,
      });
    expect(propsErrorOf(bot('Bot', kms.Key.fromKeyArn(stack, 'Key', KEY_ARN)))).toBe(
      `Test/Bot: kmsKey: got "${KEY_ARN}", a key in eu-west-1, but the stack deploys to eu-central-1; a KMS key is used only in its own region, so the bot's output secrets could not use it and the deploy would fail; pass a key of the region the stack deploys to (of a multi-Region key, its replica there: kms.Key.fromKeyArn with the replica's ARN), or deploy to eu-west-1`,
    );
    // A key of the stack's region, imported or made in the stack, passes without a warning.
    const here = KEY_ARN.replace('eu-west-1', 'eu-central-1');
    expect(bot('Here', kms.Key.fromKeyArn(stack, 'HereKey', here))).not.toThrow();
    expect(bot('Own', new kms.Key(stack, 'OwnKey'))).not.toThrow();
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('kmsKey'));
  });

  it('warns, in an environment-agnostic stack, of the region the kmsKey needs', () => {
    const stack = stackWithBot((scope) => ({ kmsKey: kms.Key.fromKeyArn(scope, 'Key', KEY_ARN) }));
    Annotations.fromStack(stack).hasWarning(
      '/Test/Bot',
      Match.stringLikeRegexp(
        "^kmsKey: the key is in eu-west-1; the stack's region is not known at synth .*; deploy to eu-west-1, or pass a key of the region the stack deploys to",
      ),
    );
  });
});
