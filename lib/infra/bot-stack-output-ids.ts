/**
 * Stack output names of the bots in a deployment file, built from their names (bot `ci-deploy` with
 * output `grafana` → `BotCiDeployOutputGrafanaSecret`) so that scripts reading them keep working when
 * bots are added, removed or reordered in the file.
 */

/** `Bot<Name>Function`: the bot's Lambda. */
export function botFunctionOutputId(botName: string): string {
  return `Bot${pascalCase(botName)}Function`;
}

/** `Bot<Name>Output<Output>Secret`: the secret of one output of the bot. */
export function botSecretOutputId(botName: string, outputName: string): string {
  return `Bot${pascalCase(botName)}Output${pascalCase(outputName)}Secret`;
}

/** Two bots or outputs whose stack output names would be the same. */
export interface StackOutputIdClash {
  /** The index of the second one's bot, where the clash is told (a deployment file names its line). */
  readonly bot: number;
  /** The index of the second one's output in its bot; undefined when it is the bot's Lambda. */
  readonly output?: number;
  /** Whether both are written alike: a repeated name, which a deployment file refuses as such. */
  readonly repeated: boolean;
  /** Both names, the stack output name and the fix. */
  readonly message: string;
}

/**
 * Two bots or outputs whose stack output names would be the same, or undefined. CloudFormation takes
 * only letters and digits in output names, so distinct names can map to one (`ci-deploy`, `ci_deploy`):
 * that is refused with both names rather than having one output silently replace the other.
 */
export function stackOutputIdClash(
  bots: ReadonlyArray<{ readonly name: string; readonly outputs: ReadonlyArray<{ readonly name: string }> }>,
): StackOutputIdClash | undefined {
  const owners = new Map<string, string>();
  for (const [botIndex, bot] of bots.entries()) {
    const named = [
      { id: botFunctionOutputId(bot.name), what: `bot "${bot.name}"`, at: { bot: botIndex } },
      ...bot.outputs.map((output, index) => ({
        id: botSecretOutputId(bot.name, output.name),
        what: `output "${output.name}" of bot "${bot.name}"`,
        at: { bot: botIndex, output: index },
      })),
    ];
    for (const { id, what, at } of named) {
      const owner = owners.get(id);
      if (owner !== undefined) {
        return {
          ...at,
          repeated: owner === what,
          message: `${owner} and ${what} would both be the stack output ${id} (output names keep only letters and digits); rename one of them`,
        };
      }
      owners.set(id, what);
    }
  }
  return undefined;
}

/** `ci-deploy.v2` → `CiDeployV2`: each run of letters and digits, its first letter in upper case. */
function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
