import { expect } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';
import { parseDeployment } from '../../lib/infra/deployment.js';

/** The message a deployment file (named `deploy/test.yaml`) is refused with; fails the test if accepted. */
export function deploymentRefusal(text: string): string {
  try {
    parseDeployment(text, 'deploy/test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  return expect.unreachable('expected the deployment file to be refused');
}
