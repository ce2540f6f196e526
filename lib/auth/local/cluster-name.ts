import { isDnsName } from '../../resources/fields.js';
import { describeCharacter, findCharacterOutside } from '../../resources/text.js';

/**
 * The CA certificates are named "<cluster> user CA" and "<cluster> host CA", and X.520 caps a common
 * name at 64 characters: a longer cluster name could not even get its CAs.
 */
const MAX_CLUSTER_NAME = 64 - ' user CA'.length;

/** The rule for a new cluster's name, as error messages state it. */
export const CLUSTER_NAME_RULE = `a cluster name is a lower-case DNS name of at most ${MAX_CLUSTER_NAME} characters: labels of letters, digits and "-" separated by single dots, each starting and ending with a letter or digit (e.g. example.test)`;

/**
 * What is wrong with the name of a new cluster, or undefined when it is fine. The name is stored with
 * the CAs for good and goes into every certificate (the CA subjects, the `mid://<cluster>/…` URI of
 * each bot identity), so only a plain DNS name is taken. Lower case only: the host part of a URI is
 * compared without case by some tools and with case by others.
 */
export function clusterNameProblem(name: string): string | undefined {
  if (name.length === 0) return `the name is empty; ${CLUSTER_NAME_RULE}`;
  if (name.length > MAX_CLUSTER_NAME)
    return `the name is ${name.length} characters long; ${CLUSTER_NAME_RULE}`;
  const bad = findCharacterOutside(name, /[a-z0-9.-]/);
  if (bad !== undefined) {
    const suggestion = suggestedClusterName(name);
    const write = suggestion === undefined ? '' : ` (write ${suggestion})`;
    return /[A-Z]/.test(bad)
      ? `upper-case letters are not allowed${write}; ${CLUSTER_NAME_RULE}`
      : `${describeCharacter(bad)} is not allowed${write}; ${CLUSTER_NAME_RULE}`;
  }
  if (name.endsWith('.') || !isDnsName(name)) {
    return `every label between dots must be 1 to 63 characters that start and end with a letter or digit; ${CLUSTER_NAME_RULE}`;
  }
  return undefined;
}

/**
 * A valid cluster name close to `name`: lower case, each run of characters a name cannot hold turned
 * into "-", and no "-" left at either end of a label (`Example_Test` → `example-test`). Undefined when
 * even that is not a valid name (too long, an empty label), since a suggestion must work as written.
 */
export function suggestedClusterName(name: string): string | undefined {
  const suggestion = name
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .split('.')
    .map((label) => label.replace(/^-+|-+$/g, ''))
    .join('.');
  // The suggestion holds only allowed characters, so checking it never asks for a suggestion again.
  return suggestion !== name && clusterNameProblem(suggestion) === undefined ? suggestion : undefined;
}
