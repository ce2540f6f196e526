import { describe, expect, it } from 'vitest';
import { parseDeployment } from '../../lib/infra/deployment.js';
import { deploymentRefusal } from './deployment-refusal.js';

// Names the constructs would refuse at synth (botName, secretNamePrefix, clusterName, at a construct
// path) are refused while the file is parsed: in the file's words, at the key and line to change.

const FILE = `cluster_name: prod.example.com
bots:
  - name: ci
    roles: [access]
    secret_name_prefix: machine-id/ci/
    outputs:
      - name: ssh
        type: identity
`;

describe('deployment file: names', () => {
  it('accepts the file the replacements below start from', () => {
    expect(parseDeployment(FILE, 'deploy/test.yaml').bots).toHaveLength(1);
  });

  it('refuses a cluster name the auth would refuse, suggesting one it takes', () => {
    expect(deploymentRefusal(FILE.replace('prod.example.com', 'Prod.example.com'))).toBe(
      'deploy/test.yaml: cluster_name (line 1): got "Prod.example.com", upper-case letters are not allowed (write prod.example.com); a cluster name is a lower-case DNS name of at most 56 characters: labels of letters, digits and "-" separated by single dots, each starting and ending with a letter or digit (e.g. example.test)',
    );
    expect(deploymentRefusal(FILE.replace('prod.example.com', 'prod..example.com'))).toContain(
      'cluster_name (line 1): got "prod..example.com", every label between dots must be 1 to 63 characters',
    );
  });

  it('refuses a bot name that breaks the name rule, at its key and line', () => {
    expect(deploymentRefusal(FILE.replace('name: ci', 'name: ci bot'))).toBe(
      'deploy/test.yaml: bots[0].name (line 3): got "ci bot", name "ci bot" cannot be used: a space is not allowed in a name; a name is 1 to 63 letters, digits, ".", "_" or "-", starts with a letter or digit and has no ".."',
    );
  });

  it('refuses a bot name too long for its join token, whatever its length', () => {
    for (const length of [60, 70]) {
      const name = 'b'.repeat(length);
      expect(deploymentRefusal(FILE.replace('name: ci', `name: ${name}`))).toBe(
        `deploy/test.yaml: bots[0].name (line 3): got "${name}", name "${name}" is ${length} characters long; at most 59, so that its join token "${name}-iam" is a valid name`,
      );
    }
  });

  it('refuses bot names that differ only in - _ or . at the second name, naming both', () => {
    const clash = FILE.replace('name: ci\n', 'name: ci-deploy\n').concat(
      '  - name: ci_deploy\n    roles: [access]\n    outputs: [{ name: ssh, type: identity }]\n',
    );
    expect(deploymentRefusal(clash)).toBe(
      'deploy/test.yaml: bots[1].name (line 9): got "ci_deploy", bot "ci-deploy" and bot "ci_deploy" would both be the stack output BotCiDeployFunction (output names keep only letters and digits); rename one of them',
    );
  });

  it('refuses output names that differ only in separators at the output, and names written alike once', () => {
    const clash = FILE.concat(
      '      - name: s.s.h\n        type: identity\n      - name: S-s-h\n        type: identity\n',
    );
    expect(deploymentRefusal(clash)).toBe(
      'deploy/test.yaml: bots[0].outputs[2].name (line 11): got "S-s-h", output "s.s.h" of bot "ci" and output "S-s-h" of bot "ci" would both be the stack output BotCiOutputSSHSecret (output names keep only letters and digits); rename one of them',
    );
    // Written alike, the names are told as used twice, not also as a stack output clash.
    expect(deploymentRefusal(FILE.concat('      - name: ssh\n        type: identity\n'))).toBe(
      'deploy/test.yaml: bots[0].outputs[1].name (line 9): got "ssh", outputs[0] has this name already; give each its own name (its secret is named after it)',
    );
  });

  it('refuses a secret name prefix with a character secret names cannot hold', () => {
    expect(deploymentRefusal(FILE.replace('machine-id/ci/', '"machine id/ci/"'))).toBe(
      'deploy/test.yaml: bots[0].secret_name_prefix (line 5): got "machine id/ci/", secret_name_prefix "machine id/ci/" cannot start a secret name: a space is not allowed; use letters, digits and / _ + = . @ -',
    );
  });

  it('refuses a secret name prefix that the output names would run into, with the separator to add', () => {
    expect(deploymentRefusal(FILE.replace('machine-id/ci/', 'machine-id'))).toBe(
      'deploy/test.yaml: bots[0].secret_name_prefix (line 5): got "machine-id", secret_name_prefix "machine-id" does not end in a separator, so the secret of output "ssh" would be named "machine-idssh"; end it with "/" ("machine-id/", making "machine-id/ssh"), or another of _ + = . @ - for names without folders',
    );
    expect(deploymentRefusal(FILE.replace('machine-id/ci/', 'ci2'))).toContain('"ci2/"');
    // A prefix for names without folders ends in a separator of its own, and no prefix at all is the
    // output name alone.
    for (const prefix of ['machine-id/', 'prod-', 'prod_', 'prod.', '""']) {
      expect(parseDeployment(FILE.replace('machine-id/ci/', prefix), 'deploy/test.yaml').bots).toHaveLength(
        1,
      );
    }
  });

  it("refuses a secret name prefix that makes an output's secret name too long", () => {
    const message = deploymentRefusal(FILE.replace('machine-id/ci/', 'p'.repeat(510)));
    expect(message).toContain('bots[0].secret_name_prefix (line 5): got "ppp');
    expect(message).toContain(
      ', secret_name_prefix is 510 characters long, so the secret of output "ssh" would have a name of 513; Secrets Manager takes at most 512, so shorten secret_name_prefix',
    );
  });

  it('refuses a role or output name that breaks the name rule, and a role listed twice, each at its line', () => {
    expect(deploymentRefusal(FILE.replace('roles: [access]', 'roles: [access, acc/ess]'))).toBe(
      'deploy/test.yaml: bots[0].roles[1] (line 4): got "acc/ess", "/" is not allowed in a name; a name is 1 to 63 letters, digits, ".", "_" or "-", starts with a letter or digit and has no ".."',
    );
    expect(deploymentRefusal(FILE.replace('roles: [access]', 'roles: [access, access]'))).toBe(
      'deploy/test.yaml: bots[0].roles[1] (line 4): got "access", roles[0] is this role already; list it once',
    );
    // Told once, as a name: not also as a role the bot does not hold.
    expect(
      deploymentRefusal(FILE.replace('type: identity', 'type: identity\n        roles: [acc/ess]')),
    ).toBe(
      'deploy/test.yaml: bots[0].outputs[0].roles[0] (line 9): got "acc/ess", "/" is not allowed in a name; a name is 1 to 63 letters, digits, ".", "_" or "-", starts with a letter or digit and has no ".."',
    );
    expect(deploymentRefusal(FILE.replace('name: ssh', 'name: "s sh"'))).toBe(
      'deploy/test.yaml: bots[0].outputs[0].name (line 7): got "s sh", a space is not allowed in a name; a name is 1 to 63 letters, digits, ".", "_" or "-", starts with a letter or digit and has no ".."',
    );
  });
});
