import { describe, expect, it } from 'vitest';
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
