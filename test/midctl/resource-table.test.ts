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
