import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';
import { parseDeployment } from '../../lib/infra/deployment.js';
import { MachineIdAuth } from '../../lib/infra/machine-id-auth.js';
import { INLINE_CODE, newStack, propsErrorOf } from './support.js';

// A resource defined twice is refused by one rule in two wordings: the deployment file's, at both
// lines, and the auth construct's, for resources given in code.

const ROLE = `  - kind: role
    version: v7
    metadata:
      name: ops
    spec:
      allow:
        logins: [ops]
`;
const FILE = `cluster_name: prod.example.com
resources:
${ROLE}  - kind: node
    version: v2
    sub_kind: openssh
    metadata:
      name: web1
    spec:
      addr: web1.example.com:22
      hostname: web1.example.com
`;

describe('a resource defined twice', () => {
  it('is refused by the deployment file at its line, naming the first', () => {
    expect(parseDeployment(FILE, 'deploy/test.yaml').resources).toHaveLength(2);
    let message = '';
    try {
      parseDeployment(`${FILE}${ROLE}`, 'deploy/test.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as ConfigError).message;
    }
    expect(message).toBe(
      'deploy/test.yaml: resources[2] (line 18): role "ops" is also resources[0] (line 3); keep one of them',
    );
  });

  it('is refused by the auth construct, in its terms', () => {
    const twice = ROLE.replace(/^ {2}- /, '').replace(/^ {4}/gm, '');
    const message = propsErrorOf(
      () => new MachineIdAuth(newStack(), 'Auth', { resources: `${twice}---\n${twice}`, code: INLINE_CODE }),
    );
    expect(message).toBe('Test/Auth: resources: role/ops is defined twice; keep one');
  });
});
