import { describe, expect, it } from 'vitest';
import { parseResources } from '../../lib/resources/parse-resources.js';
import { parseResource } from '../../lib/resources/resource.js';
import type { Role } from '../../lib/resources/role.js';
import { roleNotices } from '../../lib/resources/role-notices.js';

function role(spec: object): Role {
  return parseResource({ kind: 'role', version: 'v7', metadata: { name: 'ops' }, spec }, 'test') as Role;
}

describe('roleNotices', () => {
  it('says nothing of a role whose every field is enforced', () => {
    expect(
      roleNotices(
        role({
          allow: {
            logins: ['root'],
            node_labels: { '*': '*' },
            app_labels: { '*': ['*'] },
            kubernetes_groups: ['viewers'],
            kubernetes_labels: { '*': '*' },
            rules: [{ resources: ['host_cert'], verbs: ['create'] }],
          },
        }),
      ),
    ).toEqual([]);
  });

  it('says that node_labels and app_labels limiting some resources are checked by no server unless set up to', () => {
    const notices = roleNotices(
      role({
        allow: { logins: ['root'], node_labels: { env: 'dev' }, app_labels: { team: 'payments' } },
        deny: { node_labels: { env: 'prod' } },
      }),
    );

    expect(notices).toEqual([
      expect.stringContaining(
        'role "ops": allow.node_labels decides which nodes go into a bot\'s ssh_config, but an sshd that trusts the user CA lets in any certificate naming the login',
      ),
      expect.stringContaining(
        'role "ops": allow.app_labels decides which apps a bot gets certificates for, but an app that checks only the CA accepts any certificate of the cluster; have each app check the SAN URI mid://<cluster>/apps/<its name>',
      ),
      expect.stringContaining('role "ops": deny.node_labels decides'),
    ]);
    expect(notices[0]).toContain('spec.scoped_principals: true and AuthorizedPrincipalsCommand');
  });

  it('names kubernetes_resources, which no proxy enforces, with the RBAC advice', () => {
    const notices = roleNotices(
      role({ allow: { kubernetes_resources: [{ kind: 'pod', namespace: '*', name: '*' }] } }),
    );

    expect(notices).toEqual([
      expect.stringContaining('role "ops": allow.kubernetes_resources is not enforced'),
    ]);
    expect(notices[0]).toContain('RBAC');
  });

  it('names the rules that mean nothing here, on either side', () => {
    const notices = roleNotices(
      role({
        allow: { rules: [{ resources: ['host_cert', 'user'], verbs: ['create', 'list'] }] },
        deny: { rules: [{ resources: ['token'], verbs: ['read'] }] },
      }),
    );

    expect(notices).toEqual([
      expect.stringContaining(
        'allow.rules list on host_cert, create on user, list on user mean nothing here',
      ),
      // One rule means, several mean.
      expect.stringContaining('deny.rules read on token means nothing here'),
    ]);
  });

  it('words the advice for a deny rule as one', () => {
    const notices = roleNotices(
      role({ deny: { kubernetes_resources: [{ kind: 'pod', namespace: 'kube-system', name: '*' }] } }),
    );

    expect(notices).toEqual([expect.stringContaining('deny.kubernetes_resources is not enforced')]);
    expect(notices[0]).toContain('leave that access out of the RBAC bindings');
  });
});

describe('a role exported from Teleport', () => {
  const EXPORT = `kind: role
version: v7
metadata:
  name: access
  revision: 3f1c2a4e-0000-4000-8000-000000000000
spec:
  allow:
    app_labels: {'*': '*'}
    db_labels: {'*': '*'}
    db_names: ['{{internal.db_names}}']
    db_users: ['{{internal.db_users}}']
    kubernetes_groups: ['{{internal.kubernetes_groups}}']
    kubernetes_labels: {'*': '*'}
    logins: ['{{internal.logins}}']
    node_labels: {'*': '*'}
    rules:
      - resources: [event]
        verbs: [list, read]
        where: contains(session.participants, user.metadata.name)
    windows_desktop_labels: {'*': '*'}
    windows_desktop_logins: ['{{internal.windows_logins}}']
  deny: {}
  options:
    cert_format: standard
    create_host_user_mode: off
    desktop_clipboard: true
    enhanced_recording: [command, network]
    forward_agent: true
    idp: {saml: {enabled: true}}
    max_session_ttl: 30h0m0s
    pin_source_ip: false
    port_forwarding: true
    record_session: {default: best_effort, desktop: true}
    ssh_file_copy: true
`;

  it('pastes as it is, with a note for each part that means nothing here', () => {
    const [parsed] = parseResources(EXPORT, 'access.yaml');
    const notices = roleNotices(parsed as Role);

    expect(notices).toEqual([
      'role "access": allow.db_labels, allow.db_names, allow.db_users, allow.windows_desktop_labels, allow.windows_desktop_logins mean nothing here: this cluster issues certificates for SSH, apps and Kubernetes only',
      'role "access": allow.rules where and actions are kept but applied to nothing',
      expect.stringContaining('role "access": allow.rules list on event, read on event mean nothing here'),
      'role "access": options cert_format, create_host_user_mode, desktop_clipboard, enhanced_recording, forward_agent, idp, pin_source_ip, port_forwarding, record_session, ssh_file_copy mean nothing here (no proxy carries sessions); only options.max_session_ttl applies',
    ]);
  });

  it('refuses a label expression, which narrows what the role allows, rather than ignore it', () => {
    const text = EXPORT.replace(
      "    node_labels: {'*': '*'}",
      "    node_labels: {'*': '*'}\n    node_labels_expression: 'labels.env == \"dev\"'",
    );
    expect(() => parseResources(text, 'access.yaml')).toThrow(
      /spec\.allow\.node_labels_expression \(line \d+\): .*label expressions are not supported \(ignored, the role would allow more than it says\); write the labels as a mapping/,
    );
  });

  it('refuses a where condition on the host_cert rule, which it would widen by ignoring', () => {
    const text = EXPORT.replace('      - resources: [event]', '      - resources: [host_cert]').replace(
      'verbs: [list, read]',
      'verbs: [create]',
    );
    expect(() => parseResources(text, 'access.yaml')).toThrow(
      /a where condition on host_cert is not supported/,
    );
  });
});
