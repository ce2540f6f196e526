import { Command, type ParseOptionsResult } from 'commander';

/**
 * A commander command that refuses a mistyped flag before it checks the required ones, with commander's
 * "did you mean" also for `--flag=value`. Commander checks required flags first, so `bots add x
 * --role=access` was refused as "required option '--roles <roles>' not specified", which hides the
 * typo; and it compares `--role=access` whole, value included, with the known flags, finding none near.
 */
export class UnknownFlagFirstCommand extends Command {
  override createCommand(name?: string): Command {
    return new UnknownFlagFirstCommand(name);
  }

  override parseOptions(argv: string[]): ParseOptionsResult {
    const parsed = super.parseOptions(argv);
    const [first] = parsed.unknown;
    // Above the command that runs, what is left over belongs to a subcommand, which parses it itself.
    if (this.commands.length > 0 || first === undefined || !first.startsWith('-')) return parsed;
    // The command is refused for this flag whatever else is wrong: that refusal is the one to show.
    for (const option of this.options) option.mandatory = false;
    const equals = first.indexOf('=');
    if (first.startsWith('--') && equals > 0) parsed.unknown[0] = first.slice(0, equals);
    return parsed;
  }
}
