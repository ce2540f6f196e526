/**
 * The value the constructs create their secrets with (the CA secret and every bot output). It is not a
 * secret: CloudFormation needs some initial value, and this fixed marker reads as "nothing written yet"
 * to the auth service's CA store (which then generates the CAs once and overwrites it) and to consumers
 * (an output the bot has not written yet). A generated password instead would be a secret that nothing
 * uses, kept in the secret's first version.
 */
export const UNINITIALISED_SECRET_VALUE = '{"uninitialised":true}';
