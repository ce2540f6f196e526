/**
 * The rule against a reader listed twice in one bot, written once for the deployment file's `readers:`
 * and the `MachineIdBot` construct's `readers`, each told in the reader's words. The stack would deploy
 * a repeated reader as one, so nothing breaks; but a list of readers is most often copied and edited,
 * and a repeated one is then most likely the reader that was meant to be changed, which would be left
 * without access until someone noticed.
 */

/** How a reader is told of its list. */
export interface RepeatedReaderWords {
  /** Where the reader at `index` was written: `bots[0].readers[2] (line 8)`, `readers[2]`. */
  readonly at: (index: number) => string;
  /** The reader at `index`, as the reader would recognise it: its ARN. */
  readonly reader: (index: number) => string;
  /** What to put in place of the copy: `another role, put its ARN there`. */
  readonly instead: string;
}

/**
 * The refusal of the first reader listed again, at the second, naming the first; undefined when each is
 * listed once.
 *
 * @param identity what makes two readers one (a file's ARN; a principal as IAM would read it).
 */
export function repeatedReaderProblem<T>(
  readers: readonly T[],
  identity: (reader: T) => string,
  words: RepeatedReaderWords,
): string | undefined {
  const first = new Map<string, number>();
  for (const [index, reader] of readers.entries()) {
    const key = identity(reader);
    const earlier = first.get(key);
    if (earlier !== undefined) {
      return `${words.at(index)}: ${words.reader(index)} is listed already as ${words.at(earlier)}; list each reader once (if one of them was meant to be ${words.instead})`;
    }
    first.set(key, index);
  }
  return undefined;
}
