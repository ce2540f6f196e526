import { execFile } from 'node:child_process';

/**
 * The default `readerAclProbe`: reads the folder's default ACL with `getfacl`. True when it names a
 * user or group and the owning group gets nothing (`group::---`).
 */
export function hasReaderDefaultAcl(folder: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'getfacl',
      ['--omit-header', '--numeric', '--absolute-names', '--default', '--', folder],
      { timeout: 5000, env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', LC_ALL: 'C' } },
      (error, stdout) => {
        if (error) {
          resolve(false);
          return;
        }
        const entries = stdout.split('\n').map((line) => line.replace(/#.*$/, '').trim());
        const namesReader = entries.some((entry) => /^(?:user|group):[^:]+:/.test(entry));
        const groupGetsNothing = entries.includes('group::---');
        resolve(namesReader && groupGetsNothing);
      },
    );
  });
}
