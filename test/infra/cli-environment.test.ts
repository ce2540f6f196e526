import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnvironment } from '../../lib/infra/cli-environment.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const folder = mkdtempSync(join(tmpdir(), 'mid-cli-env-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('the environment the CDK CLI deploys to', () => {
  it('is the account and region the CLI hands the app, or none when it cannot tell', () => {
    expect(cliEnvironment({ CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'eu-west-1' })).toEqual({
      account: '123456789012',
      region: 'eu-west-1',
    });
    expect(cliEnvironment({ CDK_DEFAULT_REGION: 'eu-west-1' })).toBeUndefined();
    expect(cliEnvironment({ CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: '' })).toBeUndefined();
    expect(cliEnvironment({})).toBeUndefined();
  });

  it('makes bin/app.ts refuse a kms_key_arn of another region than the one the CLI deploys to', async () => {
    const file = join(folder, 'keyed.yaml');
    writeFileSync(
      file,
      'cluster_name: keys.example.com\nkms_key_arn: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\nbots:\n  - name: ci\n    roles: [access]\n    outputs:\n      - name: id\n        type: identity\n',
    );
    const refused = await run('npx', ['tsx', 'bin/app.ts'], {
      cwd: root,
      env: {
        ...process.env,
        MID_DEPLOYMENT: file,
        CDK_OUTDIR: join(folder, 'out'),
        CDK_DEFAULT_ACCOUNT: '123456789012',
        CDK_DEFAULT_REGION: 'eu-central-1',
      },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toContain(
      'kms_key_arn (line 2): got "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", a key in eu-west-1, but the stack deploys to eu-central-1',
    );
  }, 60_000);
});
