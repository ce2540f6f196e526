import type { LabelSelector } from '../resources/metadata.js';

/** `{env: [staging, prod], team: web}`, quoting what YAML would not read as plain text. */
export function describeLabels(selector: LabelSelector | Record<string, string>): string {
  if (Object.keys(selector).length === 0) return '(none)';
  const plain = (value: string) => (/^[A-Za-z0-9][\w./-]*$/.test(value) ? value : JSON.stringify(value));
  const entries = Object.entries(selector).map(
    ([key, value]) =>
      `${plain(key)}: ${Array.isArray(value) ? `[${value.map(plain).join(', ')}]` : plain(value as string)}`,
  );
  return `{${entries.join(', ')}}`;
}
