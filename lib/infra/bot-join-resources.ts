import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { stringify } from 'yaml';
import { iamTokenName } from './bot-name-rules.js';

/** What a {@link MachineIdBot} tells its auth so that the bot can join on its first run. */
export interface MachineIdBotRegistration {
  /** The bot's name (the `bot` resource). */
  readonly botName: string;
  /** Roles the bot holds. */
  readonly roles: readonly string[];
  /** The bot Lambda's execution role: the bot's `iam` join token allows its sessions, and nothing else. */
  readonly role: iam.IRole;
}

/**
 * Renders YAML documents for the auth's custom resource. Every string is double-quoted: values hold
 * CloudFormation tokens (account, role name) that resolve only at deploy time, and quoting keeps the
 * resolved text a string whatever it turns out to be; an unquoted account id would read as a number.
 */
export function renderYamlDocuments(documents: readonly unknown[]): string {
  return documents
    .map((document) =>
      stringify(document, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 }),
    )
    .join('---\n');
}

/**
 * The `bot` resource and its `iam` join token. The token allows only sessions of the bot Lambda's own
 * role in this account: Lambda names each session after the function, and `*` does not cross `/`, so
 * `assumed-role/<role>/*` matches that role's sessions and no other role's.
 */
export function botJoinResources(scope: IConstruct, bot: MachineIdBotRegistration): unknown[] {
  const stack = Stack.of(scope);
  return [
    {
      kind: 'bot',
      version: 'v1',
      metadata: { name: bot.botName, description: 'Deployed by MachineIdBot (cdk deploy)' },
      spec: { roles: [...bot.roles] },
    },
    {
      kind: 'token',
      version: 'v2',
      metadata: { name: iamTokenName(bot.botName), description: `IAM join of the bot Lambda ${bot.botName}` },
      spec: {
        roles: ['Bot'],
        join_method: 'iam',
        bot_name: bot.botName,
        allow: [
          {
            aws_account: stack.account,
            aws_arn: `arn:${stack.partition}:sts::${stack.account}:assumed-role/${bot.role.roleName}/*`,
          },
        ],
      },
    },
  ];
}
