import type { IConstruct } from 'constructs';
import { ConfigError } from '../core/errors.js';

/**
 * The error a construct throws at synth for a prop it cannot accept. The message starts with the
 * construct's path, so that in an app with several bots the reader knows which one is wrong, and then
 * says what the value was and how to fix it.
 */
export function invalidProps(scope: IConstruct, message: string): ConfigError {
  return new ConfigError('invalid_construct_props', `${scope.node.path}: ${message}`);
}
