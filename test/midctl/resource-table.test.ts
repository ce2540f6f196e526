import { describe, expect, it } from 'vitest';
import { renderResourceTable, textTableKind } from '../../lib/midctl/resource-table.js';

describe('recognising a saved `midctl get --format text` table', () => {
  it.each(['role', 'bot', 'token', 'app', 'kube_cluster', 'node', 'bot_instance'])(
    'knows the table of %s',
    (kind) => {
      const row = { kind, metadata: { name: 'x' }, spec: {} };
      expect(textTableKind(renderResourceTable(kind, []))).toBe(kind);
      expect(textTableKind(renderResourceTable(kind, [row]))).toBe(kind);
    },
  );

  it.each([
    ['a YAML document', 'kind: role\nversion: v7\n'],
    ['a YAML stream whose first document is one line', 'kind: role\n---\nkind: bot\n'],
    [
      'a header without its dashed rule',
      'Role Allowed to login as Node Labels App Labels Kubernetes Labels\n',
    ],
    ['a dashed rule under another header', 'Name Value\n---- -----\n'],
  ])('takes %s for what it is', (_what, text) => {
    expect(textTableKind(text)).toBeUndefined();
  });
});

describe('the bot instance table', () => {
  const NOW = Date.parse('2030-01-01T12:00:00Z');
  const instance = (status: Record<string, unknown>) => ({
    kind: 'bot_instance',
    metadata: { name: 'i-1' },
    spec: { bot_name: 'robot' },
    status: { join_method: 'token', created_at: '2030-01-01T00:00:00Z', generation: 3, ...status },
  });
  const statusOf = (status: Record<string, unknown>) =>
    renderResourceTable('bot_instance', [instance(status)], NOW)
      .trim()
      .split('\n')
      .at(-1)
      ?.split(/\s+/)
      .at(-1);

  it.each([
    [
      'active while its latest identity is valid',
      { latest_authentications: [{ expires_at: '2030-01-01T12:30:00Z' }] },
      'active',
    ],
    [
      'expired once its latest identity expired',
      { latest_authentications: [{ expires_at: '2030-01-01T11:00:00Z' }] },
      'expired',
    ],
    [
      'locked, whatever its identity',
      { locked: { at: 'x', reason: 'y' }, latest_authentications: [{ expires_at: '2030-01-01T11:00:00Z' }] },
      'locked',
    ],
    ['active for a record written before expiries were kept', { latest_authentications: [{}] }, 'active'],
  ])('shows an instance %s', (_what, status, expected) => {
    expect(statusOf(status)).toBe(expected);
  });

  it('tells an operator lock (which unlock lifts) from the service lock', () => {
    const row = renderResourceTable(
      'bot_instance',
      [instance({ locked: { at: 'x', reason: 'y', by: 'admin' }, latest_authentications: [{}] })],
      NOW,
    )
      .trim()
      .split('\n')
      .at(-1);
    expect(row).toMatch(/ locked by operator$/);
  });

  it.each([
    [
      'an operator lock with its end',
      { locked: { at: 'x', reason: 'y', by: 'admin', expires: '2030-01-01T13:00:00Z' } },
      'locked by operator until 2030-01-01T13:00:00Z',
    ],
    ['the lock on its whole bot', { bot_locked: { at: 'x', reason: 'y', by: 'admin' } }, 'bot locked'],
    [
      'the lock on its whole bot with its end',
      { bot_locked: { at: 'x', reason: 'y', by: 'admin', expires: '2030-01-01T13:00:00Z' } },
      'bot locked until 2030-01-01T13:00:00Z',
    ],
    [
      "its own lock before its bot's: the service's needs the instance removed",
      { locked: { at: 'x', reason: 'y' }, bot_locked: { at: 'x', reason: 'y', by: 'admin' } },
      'locked',
    ],
  ])('shows %s', (_what, status, expected) => {
    const row = renderResourceTable(
      'bot_instance',
      [instance({ ...status, latest_authentications: [{}] })],
      NOW,
    )
      .trim()
      .split('\n')
      .at(-1);
    expect(row?.endsWith(` ${expected}`)).toBe(true);
  });
});

describe('the token table', () => {
  const NOW = Date.parse('2030-01-01T12:00:00Z');
  const token = (expires?: string) => ({
    kind: 'token',
    metadata: { name: 'abc', ...(expires === undefined ? {} : { expires }) },
    spec: { roles: ['Bot'], join_method: 'iam', bot_name: 'robot' },
  });
  const expiresColumn = (expires?: string) =>
    renderResourceTable('token', [token(expires)], NOW)
      .trim()
      .split('\n')
      .at(-1)
      ?.split(/\s+/)
      .slice(4)
      .join(' ');

  it.each([
    ['one that expired', '2030-01-01T11:59:59.000Z', '2030-01-01T11:59:59.000Z (expired)'],
    ['one that expires now', '2030-01-01T12:00:00.000Z', '2030-01-01T12:00:00.000Z (expired)'],
    ['one still valid as it is', '2030-01-01T12:00:01.000Z', '2030-01-01T12:00:01.000Z'],
    ['one without expiry as never expiring', undefined, 'never'],
  ])('shows %s', (_what, expires, expected) => {
    expect(expiresColumn(expires)).toBe(expected);
  });
});
