import { describe, expect, it } from 'vitest';
import { parseDeployment } from '../../lib/infra/deployment.js';
import { deploymentRefusal } from './deployment-refusal.js';

// A reader listed twice in one bot is refused, naming both lines: most likely the copy of a line that
// was meant to name another role.

const APP = 'arn:aws:iam::123456789012:role/dashboard-exporter';
const OTHER = 'arn:aws:iam::123456789012:role/backup';

const fileWith = (readers: string[]) => `cluster_name: prod.example.com
bots:
  - name: ci
    roles: [access]
    readers:
${readers.map((reader) => `      - ${reader}\n`).join('')}    outputs:
      - name: ssh
        type: identity
`;

describe('deployment file: readers', () => {
  it('accepts different readers, and the same one in two bots', () => {
    expect(parseDeployment(fileWith([APP, OTHER]), 'deploy/test.yaml').bots[0]?.readers).toEqual([
      APP,
      OTHER,
    ]);
    const twoBots = `${fileWith([APP])}  - name: cd\n    roles: [access]\n    readers: [${APP}]\n    outputs: [{ name: ssh, type: identity }]\n`;
    expect(parseDeployment(twoBots, 'deploy/test.yaml').bots).toHaveLength(2);
  });

  it('refuses a reader listed twice in one bot, naming both lines', () => {
    expect(deploymentRefusal(fileWith([APP, OTHER, APP]))).toBe(
      `deploy/test.yaml: bots[0].readers[2] (line 8): ${APP} is listed already as bots[0].readers[0] (line 6); list each reader once (if one of them was meant to be another role, put its ARN there)`,
    );
  });
});
