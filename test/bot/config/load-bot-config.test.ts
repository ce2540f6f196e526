import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { identityStoreFor } from '../../../lib/bot/agent/identity-store.js';
import { STORED_IDENTITY_FILE } from '../../../lib/bot/agent/stored-identity.js';
import { botConfigSchema } from '../../../lib/bot/config/bot-config.js';
import {
  configFromFlags,
  loadBotConfig,
  loadBotConfigWithFlags,
} from '../../../lib/bot/config/load-bot-config.js';
import { ConfigError } from '../../../lib/core/errors.js';

const PIN = `sha256:${'1'.repeat(64)}`;
const TOKEN = 'tok-SECRET-4f9a1c';
const SOURCE = '/etc/midbot.yaml';

/** The application guide's /etc/tbot.yaml, with our values. */
const applicationGuide = `version: v2
auth_server: "example.teleport.sh:443"
onboarding:
  join_method: "token"
  token: "00000000000000000000000000000000"
  ca_pins:
  - "${PIN}"
storage:
  type: directory
  path: /var/lib/teleport/bot
outputs:
  - type: application
    destination:
      type: directory
      path: /opt/machine-id
    app_name: grafana-example
`;

/** A v2 config with the given outputs block, for the guides that only show `outputs:`. */
const withOutputs = (outputs: string, token = TOKEN) => `version: v2
auth_server: "auth.example.com:443"
onboarding:
  join_method: token
  token: "${token}"
  ca_pins: ["${PIN}"]
storage:
  type: directory
  path: /var/lib/midbot
${outputs}`;

/** The Kubernetes guide's v1 config, with our values. */
const kubernetesGuideV1 = `auth_server: "teleport.example.com:443"
onboarding:
  join_method: "token"
  token: "abcd123-insecure-do-not-use-this"
  ca_pins:
  - "${PIN}"
storage:
  directory: /var/lib/teleport/bot
destinations:
  - directory: /opt/machine-id
    kubernetes_cluster: example-k8s-cluster
`;

function configError(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('invalid_config');
    expect((error as Error).message).not.toContain(TOKEN);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadBotConfig: the guides', () => {
  it('reads the application guide config', () => {
    const { config, warnings } = loadBotConfig(applicationGuide, SOURCE);
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      version: 'v2',
      auth_server: 'https://example.teleport.sh:443',
      onboarding: {
        join_method: 'token',
        token: '00000000000000000000000000000000',
        ca_pins: [PIN],
        public_tls: false,
      },
      storage: { type: 'directory', path: '/var/lib/teleport/bot' },
      outputs: [
        {
          type: 'application',
          destination: { type: 'directory', path: '/opt/machine-id' },
          app_name: 'grafana-example',
          specific_tls_naming: false,
        },
      ],
      certificate_ttl: 3_600_000,
      renewal_interval: 1_200_000,
      oneshot: false,
    });
  });

  it('reads the application guide output with specific_tls_naming', () => {
    const { config } = loadBotConfig(
      withOutputs(`outputs:
  - type: application
    destination:
      type: directory
      path: /opt/machine-id
    app_name: grafana-example
    specific_tls_naming: true
`),
      SOURCE,
    );
    expect(config.outputs[0]).toMatchObject({ type: 'application', specific_tls_naming: true });
  });

  it('reads the server guide identity output, comments included', () => {
    const { config } = loadBotConfig(
      withOutputs(`outputs:
- type: identity
  destination:
    type: directory
    # For this guide, /opt/machine-id is used as the destination directory.
    # You may wish to customize this. Multiple outputs cannot share the same
    # destination.
    path: /opt/machine-id
`),
      SOURCE,
    );
    expect(config.outputs).toEqual([
      { type: 'identity', destination: { type: 'directory', path: '/opt/machine-id' } },
    ]);
  });

  it("accepts tbot's disable_exec_plugin: true on a kubernetes output, and explains false", () => {
    const kube = (value: string) =>
      withOutputs(`outputs:
  - type: kubernetes
    kubernetes_cluster: example-k8s-cluster
    disable_exec_plugin: ${value}
    destination: {type: directory, path: /opt/kube}
`);
    expect(loadBotConfig(kube('true'), SOURCE).config.outputs[0]?.type).toBe('kubernetes');
    expect(configError(() => loadBotConfig(kube('false'), SOURCE)).message).toContain(
      'outputs[0].disable_exec_plugin (line 13): got false, expected true: the kubeconfig always holds the credentials themselves',
    );
  });

  it('reads the other output kinds and destinations', () => {
    const { config } = loadBotConfig(
      withOutputs(`outputs:
  - type: kubernetes
    kubernetes_cluster: example-k8s-cluster
    roles: [machine-id-kube-role]
    destination: {type: directory, path: /opt/kube/, symlinks: secure}
  - type: ssh_host
    principals: [node1.example.com, node1]
    destination: {type: memory}
  - type: identity
    destination:
      type: aws_secrets_manager
      name: arn:aws:secretsmanager:eu-west-1:111111111111:secret:midbot/ci-AbCdEf
      region: eu-west-1
      kms_key_id: alias/midbot
certificate_ttl: 2h
renewal_interval: 30m
oneshot: true
debug: true
`),
      SOURCE,
    );
    expect(config.outputs.map((output) => output.type)).toEqual(['kubernetes', 'ssh_host', 'identity']);
    expect(config.outputs[0]?.destination).toEqual({
      type: 'directory',
      path: '/opt/kube',
      symlinks: 'secure',
    });
    expect(config.certificate_ttl).toBe(7_200_000);
    expect(config.renewal_interval).toBe(1_800_000);
    expect(config.oneshot).toBe(true);
  });

  it('converts the Kubernetes guide v1 config, with a warning showing the v2 text', () => {
    const { config, warnings } = loadBotConfig(kubernetesGuideV1, SOURCE);
    expect(config.storage).toEqual({ type: 'directory', path: '/var/lib/teleport/bot' });
    expect(config.outputs).toEqual([
      {
        type: 'kubernetes',
        destination: { type: 'directory', path: '/opt/machine-id' },
        kubernetes_cluster: 'example-k8s-cluster',
      },
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(SOURCE);
    expect(warnings[0]).toContain('version: v2');
    expect(warnings[0]).toContain('- type: kubernetes');
    expect(warnings[0]).not.toContain('abcd123-insecure-do-not-use-this');
    // The v2 text in the warning is itself a valid config once the rest of the file is added.
    const v2Part = warnings[0]?.split('\n').slice(2, -1).join('\n') ?? '';
    const v2 = loadBotConfig(
      `${v2Part}\nauth_server: teleport.example.com:443\nonboarding: {join_method: token, token: "abcd123-insecure-do-not-use-this", ca_pins: ["${PIN}"]}\n`,
      'v2.yaml',
    );
    expect(v2).toEqual({ config, warnings: [] });
  });

  it('converts v1 app and plain destinations to application and identity outputs', () => {
    const { config } = loadBotConfig(
      `version: v1
auth_server: auth.example.com:443
onboarding: {join_method: iam, token: iam-token, ca_pins: ["${PIN}"]}
storage: {memory: true}
destinations:
  - directory: /opt/app
    app: grafana-example
    roles: [app-role]
  - directory: {path: /opt/ssh}
`,
      SOURCE,
    );
    expect(config.storage).toEqual({ type: 'memory' });
    expect(config.outputs).toEqual([
      {
        type: 'application',
        destination: { type: 'directory', path: '/opt/app' },
        roles: ['app-role'],
        app_name: 'grafana-example',
        specific_tls_naming: false,
      },
      { type: 'identity', destination: { type: 'directory', path: '/opt/ssh' } },
    ]);
  });

  it('names the v1 keys when the storage folder sits inside a destination', () => {
    const nested = kubernetesGuideV1.replace(
      'directory: /var/lib/teleport/bot',
      'directory: /opt/machine-id/bot',
    );
    expect(configError(() => loadBotConfig(nested, SOURCE)).message).toBe(
      `${SOURCE}: storage.directory: inside destinations[0].directory (/opt/machine-id); the bot's own renewable identity must not sit where readers of that output can reach it, choose a folder outside it`,
    );
  });
});

describe('loadBotConfig: mistakes get an error naming the file, the key, the value and the fix', () => {
  it.each([
    ['malformed YAML', withOutputs('outputs: [\n'), /\/etc\/midbot\.yaml:\d+:\d+: .*/],
    [
      'a duplicate key',
      withOutputs('outputs: []\noutputs: []\n'),
      /midbot\.yaml:11:1: duplicate key "outputs"; each key may appear once/,
    ],
    [
      'a duplicate token key',
      withOutputs('outputs: []\n').replace(
        '  join_method: token\n',
        `  token: "${TOKEN}-2"\n  join_method: token\n`,
      ),
      /duplicate key "token"/,
    ],
    [
      'an alias',
      withOutputs(
        'outputs:\n  - type: identity\n    destination: &d {type: directory, path: /a}\n  - type: identity\n    destination: *d\n',
      ),
      /YAML anchor &d is not allowed/,
    ],
    ['a merge key', withOutputs('outputs: []\nextra:\n  <<: {a: 1}\n'), /merge keys \(<<\) are not allowed/],
    ['a tag', withOutputs('outputs: []\ncertificate_ttl: !!str 1h\n'), /YAML tag !!str is not allowed/],
    ['a custom tag', withOutputs('outputs: []\ndebug: !env DEBUG\n'), /Unresolved tag: !env|YAML tag !env/],
    ['two documents', `${withOutputs('outputs: []\n')}---\nversion: v2\n`, /second YAML document/],
    ['an empty file', '# nothing here\n', /holds no YAML document/],
    ['a list at the top', '- version: v2\n', /expected a mapping at the top level/],
    [
      'an unknown top-level key',
      withOutputs('outputs: []\nproxy: x\n'),
      /\(top level\): unknown key "proxy"/,
    ],
    [
      'a tbot key midbot spells differently',
      withOutputs('outputs: []\nproxy_server: example.teleport.sh:443\n'),
      /proxy_server: unknown key; midbot talks to the auth service directly; use auth_server$/,
    ],
    [
      'an unknown onboarding key',
      withOutputs('outputs: []\n').replace('  join_method: token\n', '  join_method: token\n  tokne: x\n'),
      /onboarding: unknown key "tokne"; did you mean "token"\?/,
    ],
    [
      'an unknown storage key',
      withOutputs('outputs: []\n').replace(
        '  path: /var/lib/midbot\n',
        '  path: /var/lib/midbot\n  mode: 700\n',
      ),
      /storage: unknown key "mode"/,
    ],
    [
      'an unknown output key',
      withOutputs('outputs:\n  - type: identity\n    destination: {type: memory}\n    format: pem\n'),
      /outputs\[0\]: unknown key "format"; remove it or check the spelling$/,
    ],
    [
      'an unknown destination key',
      withOutputs('outputs:\n  - type: identity\n    destination: {type: directory, path: /a, mode: 700}\n'),
      /outputs\[0\]\.destination: unknown key "mode"/,
    ],
    [
      'acls: required, which midbot does not check',
      withOutputs(
        'outputs:\n  - type: identity\n    destination: {type: directory, path: /a, acls: required}\n',
      ),
      /outputs\[0\]\.destination\.acls: got "required", expected off: midbot checks no ACLs on a destination; prepare the folder once with `midbot init --destination-dir PATH --bot-user B --reader-user R` \(run as root: it sets POSIX ACLs so the bot user writes and only the reader user reads\), then remove the key or set it to off$/,
    ],
    [
      'acls: try',
      withOutputs('outputs:\n  - type: identity\n    destination: {type: directory, path: /a, acls: try}\n'),
      /outputs\[0\]\.destination\.acls: got "try", expected off: midbot checks no ACLs/,
    ],
    [
      'a wrong type',
      withOutputs('outputs: []\noneshot: "yes"\n'),
      /oneshot: got "yes", expected true or false/,
    ],
    [
      'a YAML 1.1 boolean',
      withOutputs('outputs: []\noneshot: yes\n'),
      /oneshot: got "yes", expected true or false/,
    ],
    [
      'outputs as a mapping',
      withOutputs('outputs:\n  type: identity\n'),
      /outputs: got a mapping, expected a list of outputs/,
    ],
    [
      'a bad duration',
      withOutputs('outputs: []\ncertificate_ttl: 1d\n'),
      /certificate_ttl: got "1d", expected a duration; write it like 1h, 20m, 90s or 1h30m/,
    ],
    [
      'a duration as a number',
      withOutputs('outputs: []\nrenewal_interval: 1200\n'),
      /renewal_interval: got 1200, expected a duration like 1h, 20m or 90s/,
    ],
    [
      'a certificate_ttl not above the default renewal_interval, blaming the key that was set',
      withOutputs('outputs: []\ncertificate_ttl: 20m\n'),
      /: certificate_ttl: got "20m", expected more than renewal_interval \(20m, the default when not set\), or certificates expire before they are renewed; raise certificate_ttl or lower renewal_interval$/,
    ],
    [
      'renewal_interval not below certificate_ttl, in words that read',
      withOutputs('outputs: []\nrenewal_interval: 2h\n'),
      /: renewal_interval: got "2h", expected less than certificate_ttl \(1h, the default when not set\), or certificates expire before they are renewed; lower renewal_interval or raise certificate_ttl$/,
    ],
    [
      'renewal_interval below the minimum',
      withOutputs('outputs: []\nrenewal_interval: 1ms\n'),
      /: renewal_interval: got "1ms", expected at least 1m: every renewal issues all outputs again/,
    ],
    [
      'renewal_interval just below the minimum',
      withOutputs('outputs: []\nrenewal_interval: 59s\ncertificate_ttl: 10m\n'),
      /renewal_interval: got "59s", expected at least 1m/,
    ],
    [
      'a v1 renewal_interval below the minimum',
      `${kubernetesGuideV1}renewal_interval: 1ms\n`,
      /renewal_interval: got "1ms", expected at least 1m/,
    ],
    [
      'a token YAML reads as a number, which is not echoed',
      withOutputs('outputs: []\n').replace(`token: "${TOKEN}"`, 'token: 8812734651234987'),
      /onboarding\.token: got \(value hidden\), expected the join token as text/,
    ],
    [
      'no token with memory storage, where every start joins',
      withOutputs('outputs: []\n')
        .replace(`  token: "${TOKEN}"\n`, '')
        .replace('  type: directory\n  path: /var/lib/midbot\n', '  type: memory\n'),
      /onboarding\.token: .*required with storage type memory/,
    ],
    [
      'no token with the iam join method',
      withOutputs('outputs: []\n')
        .replace(`  token: "${TOKEN}"\n`, '')
        .replace('join_method: token', 'join_method: iam'),
      /onboarding\.token: .*required with join_method iam/,
    ],
    [
      'a bad CA pin',
      withOutputs('outputs: []\n').replace(PIN, 'sha256:1234'),
      /onboarding\.ca_pins\[0\]: got "sha256:1234", expected sha256: followed by 64 hex digits/,
    ],
    [
      'one pin-less value where the list of pins goes, which is not echoed',
      withOutputs('outputs: []\n').replace(
        `ca_pins: ["${PIN}"]`,
        'ca_pins: c3f1a9d2e8b74f60a1b2c3d4e5f60718',
      ),
      /onboarding\.ca_pins: got \(value hidden\), expected a list of CA pins; write ca_pins: \["sha256:\.\.\."\]/,
    ],
    [
      'a pin without its sha256: prefix',
      withOutputs('outputs: []\n').replace(PIN, '1'.repeat(64)),
      /onboarding\.ca_pins\[0\]: got \(value hidden\), .*is 64 hex digits alone\): write sha256: in front of them/,
    ],
    [
      'a join token where the CA pin goes, which is not echoed',
      withOutputs('outputs: []\n').replace(PIN, 's3cr3t-token-value-xyz'),
      /onboarding\.ca_pins\[0\]: got \(value hidden\), expected a CA pin, sha256: followed by 64 hex digits \(this value of 22 characters is not shown/,
    ],
    [
      "the guide's placeholder pin",
      withOutputs('outputs: []\n').replace(
        PIN,
        'sha256:abdc1245efgh5678abdc1245efgh5678abdc1245efgh5678abdc1245efgh5678',
      ),
      /this is the guide's placeholder, copy the pin printed by `midctl bots add`/,
    ],
    [
      'no CA pin',
      withOutputs('outputs: []\n').replace(`  ca_pins: ["${PIN}"]\n`, ''),
      /onboarding\.ca_pins: .*only joins a cluster it can authenticate/,
    ],
    [
      'an unknown join method',
      withOutputs('outputs: []\n').replace('join_method: token', 'join_method: github'),
      /onboarding\.join_method: got "github", expected one of token, iam/,
    ],
    [
      'an unknown output type',
      withOutputs('outputs:\n  - type: app\n    destination: {type: memory}\n'),
      /outputs\[0\]\.type: got "app", expected one of identity, application, kubernetes, ssh_host/,
    ],
    [
      'an unknown destination type',
      withOutputs('outputs:\n  - type: identity\n    destination: {type: s3}\n'),
      /outputs\[0\]\.destination\.type: got "s3", expected one of directory, memory, aws_secrets_manager/,
    ],
    [
      'a missing app_name',
      withOutputs('outputs:\n  - type: application\n    destination: {type: memory}\n'),
      /outputs\[0\]\.app_name: got nothing, expected the app name \(this key is required\)/,
    ],
    [
      'a missing kubernetes_cluster',
      withOutputs('outputs:\n  - type: kubernetes\n    destination: {type: memory}\n'),
      /outputs\[0\]\.kubernetes_cluster: got nothing/,
    ],
    [
      'empty principals',
      withOutputs('outputs:\n  - type: ssh_host\n    principals: []\n    destination: {type: memory}\n'),
      /outputs\[0\]\.principals: got an empty list, expected at least one host name/,
    ],
    [
      'a relative destination path',
      withOutputs('outputs:\n  - type: identity\n    destination: {type: directory, path: machine-id}\n'),
      /outputs\[0\]\.destination\.path: got "machine-id", expected an absolute path/,
    ],
    [
      'a destination path with ..',
      withOutputs('outputs:\n  - type: identity\n    destination: {type: directory, path: /opt/../etc}\n'),
      /outputs\[0\]\.destination\.path: got "\/opt\/\.\.\/etc", expected a path without "\.\." segments/,
    ],
    [
      'a destination path with a quote',
      withOutputs('outputs:\n  - type: identity\n    destination: {type: directory, path: "/opt/a\\"b"}\n'),
      /expected a path without quotes/,
    ],
    [
      'symlinks: insecure',
      withOutputs(
        'outputs:\n  - type: identity\n    destination: {type: directory, path: /a, symlinks: insecure}\n',
      ),
      /outputs\[0\]\.destination\.symlinks: got "insecure", expected secure: midbot never follows symlinks/,
    ],
    [
      'symlinks: try-secure on storage',
      withOutputs('outputs: []\n').replace(
        '  path: /var/lib/midbot\n',
        '  path: /var/lib/midbot\n  symlinks: try-secure\n',
      ),
      // No "(SECURITY rule 12)": the package ships no such document for a user to look it up in.
      /storage\.symlinks: got "try-secure", expected secure: midbot never follows symlinks inside a destination or the storage folder; remove the key or set it to secure/,
    ],
    [
      'two outputs in one folder',
      withOutputs(
        'outputs:\n  - type: identity\n    destination: {type: directory, path: /opt/a}\n  - type: application\n    app_name: x\n    destination: {type: directory, path: /opt/a/}\n',
      ),
      /outputs\[1\]\.destination\.path: got "\/opt\/a\/", the same folder as outputs\[0\]; .*outputs\[0\] and outputs\[1\]/,
    ],
    [
      'two outputs in one secret',
      withOutputs(
        'outputs:\n  - type: identity\n    destination: {type: aws_secrets_manager, name: midbot/x}\n  - type: identity\n    destination: {type: aws_secrets_manager, name: midbot/x}\n',
      ),
      /outputs\[1\]\.destination\.name: got "midbot\/x", the same secret as outputs\[0\]/,
    ],
    [
      'a secret named by its ARN with another region:',
      withOutputs(
        'outputs:\n  - type: identity\n    destination: {type: aws_secrets_manager, name: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:midbot/x", region: us-east-1}\n',
      ),
      /outputs\[0\]\.destination\.region: got "us-east-1", the secret's ARN is in eu-west-1, and a secret is reached only in its own region; remove region: \(midbot calls an ARN's region\) or set it to eu-west-1/,
    ],
    [
      'two outputs in one secret, named by its name and by its ARN',
      withOutputs(
        'outputs:\n  - type: identity\n    destination: {type: aws_secrets_manager, name: midbot/x, region: eu-west-1}\n  - type: identity\n    destination: {type: aws_secrets_manager, name: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:midbot/x-AbC123"}\n',
      ),
      /outputs\[1\]\.destination\.name: got "arn:aws:secretsmanager:eu-west-1:123456789012:secret:midbot\/x-AbC123", the same secret as outputs\[0\] \(by name or ARN; give each a region: if they are in different regions\)/,
    ],
    [
      'an output in the storage folder',
      withOutputs(
        'outputs:\n  - type: identity\n    destination: {type: directory, path: /var/lib/midbot}\n',
      ),
      /outputs\[0\]\.destination\.path: .*the same folder as storage\.path/,
    ],
    [
      'the storage folder inside an output folder',
      withOutputs('outputs:\n  - type: identity\n    destination: {type: directory, path: /var/lib}\n'),
      /storage\.path: got "\/var\/lib\/midbot", inside outputs\[0\]\.destination\.path \(\/var\/lib\); the bot's own renewable identity must not sit where readers of that output can reach it, choose a folder outside it/,
    ],
    [
      'an output folder inside the storage folder',
      withOutputs(
        'outputs:\n  - type: identity\n    destination: {type: directory, path: /var/lib/midbot/out}\n',
      ),
      /outputs\[0\]\.destination\.path: got "\/var\/lib\/midbot\/out", inside storage\.path \(\/var\/lib\/midbot\); readers of this output must not be let into the folder that holds the bot's own renewable identity, choose a folder outside it/,
    ],
    [
      'an output folder inside another',
      withOutputs(
        'outputs:\n  - type: identity\n    destination: {type: directory, path: /opt/out/sub}\n  - type: application\n    app_name: x\n    destination: {type: directory, path: /opt/out}\n',
      ),
      /outputs\[0\]\.destination\.path: got "\/opt\/out\/sub", inside outputs\[1\]\.destination\.path \(\/opt\/out\); readers of that output would reach this output's key, and each output needs a folder of its own, choose one outside it/,
    ],
    [
      'a bad secret name',
      withOutputs(
        'outputs:\n  - type: identity\n    destination: {type: aws_secrets_manager, name: "a b"}\n',
      ),
      /outputs\[0\]\.destination\.name: got "a b", expected a secret name/,
    ],
    [
      'an http auth server',
      withOutputs('outputs: []\n').replace('"auth.example.com:443"', 'http://auth.example.com'),
      /auth_server: got "http:\/\/auth\.example\.com", expected an https:\/\/ address/,
    ],
    [
      'a v2 file without version',
      withOutputs('outputs: []\n').replace('version: v2\n', ''),
      /version: got nothing, but the file uses v2 keys .* add `version: v2`/,
    ],
    [
      'an auth server address holding the /v1 of the API',
      withOutputs('outputs: []\n').replace('"auth.example.com:443"', 'https://auth.example.com:3025/v1/'),
      /^\S+: auth_server: got "https:\/\/auth\.example\.com:3025\/v1\/", expected the address without the API's path \/v1, which midbot adds itself: write https:\/\/auth\.example\.com:3025$/,
    ],
    [
      'an auth server address holding an API route after its prefix',
      withOutputs('outputs: []\n').replace(
        '"auth.example.com:443"',
        'https://abc.execute-api.eu-west-1.amazonaws.com/prod/v1/ping',
      ),
      /auth_server: got ".*", expected the address without the API's path \/v1, which midbot adds itself: write https:\/\/abc\.execute-api\.eu-west-1\.amazonaws\.com\/prod$/,
    ],
    [
      'an unknown version',
      withOutputs('outputs: []\n').replace('version: v2', 'version: v3'),
      /version: got "v3", expected v2/,
    ],
    [
      'v1 destinations with version: v2',
      withOutputs('destinations: []\n'),
      /destinations: unknown key; destinations is the v1 shape/,
    ],
    [
      'a v1 destination with both app and kubernetes_cluster',
      kubernetesGuideV1.replace('    kubernetes_cluster', '    app: grafana\n    kubernetes_cluster'),
      /destinations\[0\]: has both kubernetes_cluster and app/,
    ],
    [
      'a v1 unknown destination key',
      kubernetesGuideV1.replace('    kubernetes_cluster', '    configs: []\n    kubernetes_cluster'),
      /destinations\[0\]: unknown key "configs"/,
    ],
  ])('refuses %s', (_name, text, message) => {
    const error = configError(() => loadBotConfig(text, SOURCE));
    // The line a value sits on is checked in tests of its own (below); here, the words.
    expect(error.message.replace(/ \(line \d+\)/g, '')).toMatch(message);
    expect(error.message.startsWith(SOURCE)).toBe(true);
  });

  it.each([
    ['a number', withOutputs('outputs: []\n').replace(`"${TOKEN}"`, '0000')],
    ['a list', withOutputs('outputs: []\n').replace(`"${TOKEN}"`, `["${TOKEN}"]`)],
    ['an unterminated string', withOutputs('outputs: []\n').replace(`"${TOKEN}"`, `"${TOKEN}`)],
    ['an empty string', withOutputs('outputs: []\n').replace(`"${TOKEN}"`, '""')],
    ['a tagged string', withOutputs('outputs: []\n').replace(`"${TOKEN}"`, `!!binary ${TOKEN}`)],
    ['a mapping', withOutputs('outputs: []\n').replace(`"${TOKEN}"`, `{value: "${TOKEN}"}`)],
    [
      'written in place of onboarding',
      withOutputs('outputs: []\n').replace(/onboarding:\n(?: {2}.*\n)+/, `onboarding: "${TOKEN}"\n`),
    ],
    ['in a v1 file', kubernetesGuideV1.replace('"abcd123-insecure-do-not-use-this"', `[${TOKEN}]`)],
  ])('never echoes the token, even when it is %s', (_name, text) => {
    const error = configError(() => loadBotConfig(text, SOURCE));
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toContain('tok-SECRET');
  });

  it('never echoes the token in other errors of the same file', () => {
    const error = configError(() =>
      loadBotConfig(withOutputs('outputs:\n  - type: bogus\ncertificate_ttl: 5x\n'), SOURCE),
    );
    expect(error.message).toContain('outputs[0].type');
    expect(error.message).toContain('certificate_ttl');
  });

  it('refuses a file too large to be a config', () => {
    const error = configError(() =>
      loadBotConfig(`# ${'x'.repeat(300 * 1024)}\n${applicationGuide}`, SOURCE),
    );
    expect(error.message).toMatch(/larger than 256 KiB/);
  });

  it('normalises the auth server address', () => {
    const address = (value: string) =>
      loadBotConfig(withOutputs('outputs: []\n').replace('"auth.example.com:443"', value), SOURCE).config
        .auth_server;
    expect(address('auth.example.com')).toBe('https://auth.example.com');
    expect(address('auth.example.com:3025')).toBe('https://auth.example.com:3025');
    expect(address('https://abc.execute-api.eu-west-1.amazonaws.com/prod/')).toBe(
      'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
    );
    expect(address('"[::1]:3025"')).toBe('https://[::1]:3025');
    expect(address('http://127.0.0.1:3025')).toBe('http://127.0.0.1:3025');
  });

  it('exports a schema that enforces the cross-field rules on its own', () => {
    const result = botConfigSchema.safeParse({
      version: 'v2',
      auth_server: 'a:1',
      onboarding: { join_method: 'token', token: 'x', ca_pins: [PIN] },
      storage: { type: 'memory' },
      certificate_ttl: '10m',
      renewal_interval: '10m',
    });
    expect(result.success).toBe(false);
  });
});

describe('configFromFlags and loadBotConfigWithFlags', () => {
  const startFlags = {
    dataDir: '/var/lib/teleport/bot',
    destinationDir: '/opt/machine-id',
    token: '00000000000000000000000000000000',
    joinMethod: 'token',
    caPins: [PIN],
    authServer: 'example.teleport.sh:443',
  };

  it("builds the same config as the equivalent file from the getting-started guide's flags", () => {
    const fromFlags = configFromFlags(startFlags);
    const fromFile = loadBotConfig(
      `version: v2
auth_server: example.teleport.sh:443
onboarding:
  join_method: token
  token: "00000000000000000000000000000000"
  ca_pins: ["${PIN}"]
storage: {type: directory, path: /var/lib/teleport/bot}
outputs:
  - type: identity
    destination: {type: directory, path: /opt/machine-id}
`,
      SOURCE,
    ).config;
    expect(fromFlags).toEqual(fromFile);
  });

  it('joins with IAM and runs once when asked', () => {
    const config = configFromFlags({ ...startFlags, token: 'iam-token', joinMethod: 'iam', oneshot: true });
    expect(config.onboarding).toEqual({
      join_method: 'iam',
      token: 'iam-token',
      ca_pins: [PIN],
      public_tls: false,
    });
    expect(config.oneshot).toBe(true);
  });

  it('lets --token be left out with --data-dir: a restart renews the stored identity', () => {
    const config = configFromFlags({ ...startFlags, token: undefined });
    expect(config.onboarding).toEqual({ join_method: 'token', ca_pins: [PIN], public_tls: false });
    expect(config.storage).toEqual({ type: 'directory', path: '/var/lib/teleport/bot' });
  });

  it('accepts a renewal interval of one minute, the minimum', () => {
    const config = configFromFlags({ ...startFlags, renewalInterval: '1m', certificateTtl: '10m' });
    expect(config.renewal_interval).toBe(60_000);
  });

  it('resolves relative folders against the working directory and keeps the bot in memory without --data-dir', () => {
    const config = configFromFlags(
      { ...startFlags, dataDir: undefined, destinationDir: './out' },
      { cwd: '/home/ci/job' },
    );
    expect(config.storage).toEqual({ type: 'memory' });
    expect(config.outputs[0]?.destination).toEqual({ type: 'directory', path: '/home/ci/job/out' });
  });

  it.each([
    [
      { ...startFlags, caPins: ['sha256:xyz'] },
      /--ca-pin: got "sha256:xyz", expected sha256: followed by 64 hex/,
    ],
    [{ ...startFlags, caPins: [] }, /--ca-pin is required/],
    [
      // The join token given to the wrong flag: refused without being echoed.
      { ...startFlags, caPins: ['9f3c1a7e5b2d4f6a8c0e9b1d3f5a7c9e'] },
      /^--ca-pin: got \(value hidden\), expected a CA pin, sha256: followed by 64 hex digits \(this value of 32 characters is not shown: it may be the join token given in the wrong place\)/,
    ],
    [{ ...startFlags, joinMethod: 'github' }, /--join-method: got "github", expected one of token, iam/],
    [
      { ...startFlags, authServer: 'https://127.0.0.1:3025/v1' },
      /^--auth-server: got "https:\/\/127\.0\.0\.1:3025\/v1", expected the address without the API's path \/v1, which midbot adds itself: write https:\/\/127\.0\.0\.1:3025$/,
    ],
    [{ ...startFlags, authServer: undefined }, /^--auth-server is required without a config file \(-c\)/],
    [
      { ...startFlags, dataDir: undefined, token: undefined, authServer: undefined },
      /^--auth-server is required without a config file \(-c\): .*; --token is required without --data-dir \(or --storage file:\/\/\/PATH\): .*with --data-dir, a restart renews the stored identity without it/,
    ],
    [
      { ...startFlags, token: undefined, joinMethod: 'iam' },
      /^--token is required with --join-method iam: give the name of the iam join token$/,
    ],
    [{ ...startFlags, token: '' }, /^--token: got "", expected the join token, not an empty string$/],
    [{ ...startFlags, certificateTtl: 'soon' }, /--certificate-ttl: got "soon", expected a duration/],
    [
      { ...startFlags, renewalInterval: '2h' },
      /^--renewal-interval: got "2h", expected less than --certificate-ttl \(1h, the default when not set\), or certificates expire before they are renewed; lower --renewal-interval or raise --certificate-ttl$/,
    ],
    [
      { ...startFlags, certificateTtl: '1ms' },
      /^--certificate-ttl: got "1ms", expected more than --renewal-interval \(20m, the default when not set\)/,
    ],
    [
      { ...startFlags, renewalInterval: '1ms' },
      /^--renewal-interval: got "1ms", expected at least 1m: every renewal issues all outputs again, so renewing more often only loads the auth service/,
    ],
    [
      { ...startFlags, renewalInterval: '0s' },
      /^--renewal-interval: got "0s", expected a duration longer than zero/,
    ],
    [
      { ...startFlags, destinationDir: '/var/lib/teleport/bot' },
      /^--destination-dir: got "\/var\/lib\/teleport\/bot", the same folder as --data-dir; /,
    ],
    [
      // As after `midbot init --destination-dir /tmp/sh2`: refused before a storage folder is made there.
      { ...startFlags, destinationDir: '/tmp/sh2', dataDir: '/tmp/sh2/storage' },
      /^--data-dir: got "\/tmp\/sh2\/storage", inside --destination-dir \(\/tmp\/sh2\); the bot's own renewable identity must not sit where readers of that output can reach it, choose a folder outside it$/,
    ],
    [
      { ...startFlags, destinationDir: '/var/lib/teleport/bot/out' },
      /^--destination-dir: got "\/var\/lib\/teleport\/bot\/out", inside --data-dir \(\/var\/lib\/teleport\/bot\); /,
    ],
  ])('refuses bad flags: %#', (flags, message) => {
    const error = configError(() => configFromFlags(flags));
    expect(error.message).toMatch(message);
  });

  it('lets flags override the file', () => {
    const file = loadBotConfig(applicationGuide, SOURCE).config;
    const { config, warnings } = loadBotConfigWithFlags(applicationGuide, SOURCE, {
      token: TOKEN,
      authServer: 'https://other.example.com',
      caPins: [`sha256:${'2'.repeat(64)}`],
      certificateTtl: '2h',
      oneshot: true,
    });
    expect(warnings).toEqual([]);
    expect(config.onboarding.token).toBe(TOKEN);
    expect(config.onboarding.ca_pins).toEqual([`sha256:${'2'.repeat(64)}`]);
    expect(config.auth_server).toBe('https://other.example.com');
    expect(config.certificate_ttl).toBe(7_200_000);
    expect(config.oneshot).toBe(true);
    expect(config.outputs).toEqual(file.outputs);
    expect(config.storage).toEqual(file.storage);
  });

  it('lets flags fill in the keys a file leaves out', () => {
    const outputsOnly = `version: v2
outputs:
  - type: identity
    destination: {type: directory, path: /opt/machine-id}
`;
    const { config, warnings } = loadBotConfigWithFlags(outputsOnly, SOURCE, {
      ...startFlags,
      destinationDir: undefined,
      oneshot: true,
    });
    expect(warnings).toEqual([]);
    expect(config).toEqual({ ...configFromFlags(startFlags), oneshot: true });
  });

  it('takes storage from --data-dir when the file has every other key', () => {
    const withoutStorage = applicationGuide.replace(
      'storage:\n  type: directory\n  path: /var/lib/teleport/bot\n',
      '',
    );
    expect(withoutStorage).not.toContain('storage');
    const { config } = loadBotConfigWithFlags(withoutStorage, SOURCE, { dataDir: '/var/lib/midbot' });
    expect(config.storage).toEqual({ type: 'directory', path: '/var/lib/midbot' });
    expect(config.outputs).toEqual(loadBotConfig(applicationGuide, SOURCE).config.outputs);
  });

  it("names the file's key and the flag that could give it when neither does", () => {
    const error = configError(() =>
      loadBotConfigWithFlags('version: v2\noutputs: []\n', SOURCE, { token: TOKEN, caPins: [PIN] }),
    );
    expect(error.message).toBe(
      `${SOURCE}: auth_server (or --auth-server): got nothing, required: set auth_server to the auth service address, e.g. auth.example.com:443; ` +
        `${SOURCE}: storage (or --data-dir, --storage): got nothing, expected a mapping with type: directory and path, or type: memory (this key is required)`,
    );
  });

  it('takes the token join method when neither the file nor --join-method names one, as flags alone do', () => {
    const { config } = loadBotConfigWithFlags('version: v2\nstorage: {type: memory}\noutputs: []\n', SOURCE, {
      token: TOKEN,
      caPins: [PIN],
      authServer: 'auth.example.com:443',
    });
    expect(config.onboarding).toMatchObject({ join_method: 'token', token: TOKEN });
  });

  it('does not turn a file’s token into a token join because another onboarding flag was given', () => {
    const error = configError(() =>
      loadBotConfigWithFlags(
        `version: v2\nauth_server: auth.example.com:443\nonboarding: {token: my-iam-token}\nstorage: {type: memory}\noutputs: []\n`,
        SOURCE,
        { caPins: [PIN] },
      ),
    );
    expect(error.message).toContain('onboarding.join_method (or --join-method): got nothing');
  });

  it('still refuses a mistake in the file where a flag replaces the key', () => {
    const typo = withOutputs('outputs: []\n').replace(
      '  path: /var/lib/midbot\n',
      '  path: /var/lib/midbot\n  mode: 700\n',
    );
    const error = configError(() => loadBotConfigWithFlags(typo, SOURCE, { dataDir: '/var/lib/other' }));
    expect(error.message).toMatch(/^\/etc\/midbot\.yaml: storage \(line 10\): unknown key "mode"/);
  });

  it('names a flag and a file key on either side of a rule across keys', () => {
    const error = configError(() =>
      loadBotConfigWithFlags(applicationGuide, SOURCE, { dataDir: '/opt/machine-id' }),
    );
    expect(error.message).toBe(
      `${SOURCE}: outputs[0].destination.path (line 15): got "/opt/machine-id", the same folder as --data-dir; the bot's own renewable identity must not sit where readers of this output can reach it, choose another folder`,
    );
  });

  it('applies flags over a v1 file, which it converts with its warning', () => {
    const { config, warnings } = loadBotConfigWithFlags(kubernetesGuideV1, SOURCE, {
      authServer: 'auth.example.com:3025',
      renewalInterval: '30m',
    });
    expect(config.auth_server).toBe('https://auth.example.com:3025');
    expect(config.renewal_interval).toBe(1_800_000);
    expect(config.outputs[0]).toMatchObject({
      type: 'kubernetes',
      kubernetes_cluster: 'example-k8s-cluster',
    });
    expect(warnings[0]).toMatch(/uses the v1 config shape/);
  });

  it('replaces the outputs with one identity output for --destination-dir, and says so', () => {
    const { config, warnings } = loadBotConfigWithFlags(applicationGuide, SOURCE, {
      destinationDir: '/opt/other',
      dataDir: '/var/lib/other',
    });
    expect(config.outputs).toEqual([
      { type: 'identity', destination: { type: 'directory', path: '/opt/other' } },
    ]);
    expect(config.storage).toEqual({ type: 'directory', path: '/var/lib/other' });
    expect(warnings[0]).toMatch(/--destination-dir \/opt\/other replaces the 1 output\(s\)/);
  });

  it('checks the merged result as a whole', () => {
    const error = configError(() =>
      loadBotConfigWithFlags(applicationGuide, SOURCE, { renewalInterval: '1h' }),
    );
    expect(error.message).toBe(
      '--renewal-interval: got "1h", expected less than certificate_ttl (1h, the default when not set), or certificates expire before they are renewed; lower --renewal-interval or raise certificate_ttl',
    );
  });

  it("names the file's key and its value when the flag only changed the other side of the renewal rule", () => {
    const error = configError(() =>
      loadBotConfigWithFlags(withOutputs('outputs: []\nrenewal_interval: 30m\n'), SOURCE, {
        certificateTtl: '20m',
      }),
    );
    expect(error.message).toMatch(
      /^\/etc\/midbot\.yaml: renewal_interval \(line \d+\): got "30m", expected less than --certificate-ttl \(20m\), .*lower renewal_interval or raise --certificate-ttl$/,
    );
  });

  it('refuses --join-method iam over a file without a token', () => {
    const tokenless = withOutputs('outputs: []\n').replace(`  token: "${TOKEN}"\n`, '');
    expect(loadBotConfig(tokenless, SOURCE).config.onboarding.token).toBeUndefined();
    const error = configError(() => loadBotConfigWithFlags(tokenless, SOURCE, { joinMethod: 'iam' }));
    expect(error.message).toBe(
      `${SOURCE}: onboarding.token (or --token): got nothing, required with join_method iam: set it to the name of the iam join token`,
    );
  });
});

describe('acls', () => {
  it('accepts acls: off on a destination, which is what midbot does', () => {
    const { config } = loadBotConfig(
      withOutputs('outputs:\n  - type: identity\n    destination: {type: directory, path: /a, acls: off}\n'),
      SOURCE,
    );
    expect(config.outputs[0]?.destination).toEqual({ type: 'directory', path: '/a', acls: 'off' });
  });
});

describe('symlinks', () => {
  it('accepts symlinks: secure on storage as on a destination, and means the same there', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'midbot-storage-symlinks-'));
    try {
      const { config } = loadBotConfig(
        withOutputs(
          `outputs:\n  - type: identity\n    destination: {type: directory, path: /opt/a, symlinks: secure}\n`,
        ).replace('  path: /var/lib/midbot\n', `  path: ${folder}\n  symlinks: secure\n`),
        SOURCE,
      );
      expect(config.storage).toEqual({ type: 'directory', path: folder, symlinks: 'secure' });
      expect(config.outputs[0]?.destination).toEqual({
        type: 'directory',
        path: '/opt/a',
        symlinks: 'secure',
      });
      // The storage folder, like a destination, refuses a symlink planted at the identity's name.
      symlinkSync(join(folder, 'elsewhere'), join(folder, STORED_IDENTITY_FILE));
      await expect(identityStoreFor(config.storage).load()).rejects.toMatchObject({
        code: 'symlink_in_destination',
      });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('public_tls', () => {
  it('lets a bot authenticate a publicly trusted auth service without a pin, and only when asked', () => {
    const base =
      'version: v2\nauth_server: https://abc.execute-api.eu-west-1.amazonaws.com\nonboarding:\n  join_method: iam\n  token: robot-iam\n';
    const rest = 'storage:\n  type: memory\noutputs: []\n';
    expect(loadBotConfig(`${base}  public_tls: true\n${rest}`, SOURCE).config.onboarding.public_tls).toBe(
      true,
    );
    expect(() => loadBotConfig(`${base}${rest}`, SOURCE)).toThrow(
      /expected ca_pins \(or ca_path, or public_tls: true/,
    );
  });
});
