import { spawnSync } from 'node:child_process';

/** Where `getent` is looked for: a fixed PATH, as `midbot init` uses, so nothing planted in $PATH runs. */
const TOOL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * A user as a refusal names it: `uid 65534 (nobody)`, the name as `getent passwd` (NSS: LDAP, sssd too)
 * knows it, so that the person reading it need not look the number up; just `uid 65534` when no user
 * has that uid or `getent` is missing. Only for messages: it runs a process.
 */
export function describeUid(uid: number): string {
  const found = spawnSync('getent', ['passwd', String(uid)], {
    encoding: 'utf8',
    env: { PATH: TOOL_PATH },
    timeout: 2_000,
  });
  // name:password:uid:gid:gecos:home:shell
  const [name, , listedUid] = found.status === 0 ? found.stdout.split('\n')[0]!.split(':') : [];
  return name !== undefined && name !== '' && listedUid === String(uid)
    ? `uid ${uid} (${name})`
    : `uid ${uid}`;
}
