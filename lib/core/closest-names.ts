/**
 * The known names a mistyped one most likely meant: `tokne` → `token`, `app-name` → `app_name`,
 * `renewalInterval` → `renewal_interval`. Used to turn "unknown key" into "did you mean …?".
 *
 * Names that differ only in case, `-` or `_` match first (tbot's YAML is snake_case; people carry
 * habits from kebab-case flags and camelCase JSON). Otherwise a name matches within a few edits (an
 * insertion, a deletion, a substitution or two neighbours swapped), fewer for short names, so that
 * `ttl` does not suggest `tls`. At most three names, the closest first, in `known`'s order on ties.
 */
export function closestNames(word: string, known: Iterable<string>): string[] {
  const spelled = normalised(word);
  const candidates = [...new Set(known)].filter((name) => name !== word);
  const sameName = candidates.filter((name) => normalised(name) === spelled);
  if (sameName.length > 0) return sameName.slice(0, MAX_SUGGESTIONS);
  const allowed = allowedEdits(word);
  const near = candidates
    .map((name) => ({ name, edits: editDistance(word.toLowerCase(), name.toLowerCase()) }))
    .filter((candidate) => candidate.edits <= allowed);
  const fewest = Math.min(...near.map((candidate) => candidate.edits));
  return near
    .filter((candidate) => candidate.edits === fewest)
    .slice(0, MAX_SUGGESTIONS)
    .map((candidate) => candidate.name);
}

const MAX_SUGGESTIONS = 3;

function normalised(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

function allowedEdits(word: string): number {
  if (word.length <= 3) return 0;
  if (word.length <= 5) return 1;
  return word.length <= 10 ? 2 : 3;
}

/** Edits from `a` to `b`, a swap of two neighbouring characters counting as one (optimal alignment). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row !== undefined) row[j] = best;
    }
  }
  return at(a.length, b.length);
}
