/**
 * Matches an ARN against an `aws_arn` pattern of an `iam` token's allow rule.
 *
 * Semantics (the README repeats them):
 * - The pattern must match the **whole** ARN, case-sensitively.
 * - `*` matches any run of characters, including none, **within one segment**: it never matches `/`
 *   or `:`. `?` matches exactly one character that is not `/` or `:`.
 * - Every other character, `/` and `:` included, matches only itself. So a pattern has exactly as
 *   many `/` and `:` as the ARNs it can match, in the same places.
 *
 * Examples: `arn:aws:sts::123456789012:assumed-role/ci-role/*` matches every session of role
 * `ci-role` and nothing of any other role; `arn:aws:sts::123456789012:assumed-role/*` matches nothing
 * (an assumed-role ARN always has a role and a session segment); `arn:aws:iam::123456789012:user/*`
 * matches users without a path only (name the path, e.g. `user/ci/*`, for users under one).
 *
 * Mind that the session name (the last segment of an assumed-role ARN) is chosen by whoever assumes
 * the role: pin the role, not the session name, unless you control every principal allowed to assume it.
 */
export function matchArnGlob(pattern: string, arn: string): boolean {
  const patternSegments = splitSegments(pattern);
  const arnSegments = splitSegments(arn);
  if (patternSegments.length !== arnSegments.length) return false;
  return patternSegments.every((segment, index) => {
    const other = arnSegments[index] as Segment;
    return segment.separator === other.separator && matchSegment(segment.text, other.text);
  });
}

interface Segment {
  /** The separator before this segment (`''` for the first). */
  readonly separator: string;
  readonly text: string;
}

/** Splits at every `/` and `:`, keeping which separator came before each segment. */
function splitSegments(value: string): Segment[] {
  const segments: Segment[] = [];
  let separator = '';
  let start = 0;
  for (let i = 0; i <= value.length; i += 1) {
    const char = value[i];
    if (i === value.length || char === '/' || char === ':') {
      segments.push({ separator, text: value.slice(start, i) });
      separator = char ?? '';
      start = i + 1;
    }
  }
  return segments;
}

/**
 * Wildcard match of one segment (no separators in either argument): the greedy algorithm that
 * remembers only the last `*`, at most O(pattern × text) steps, so a hostile pattern such as
 * `*a*a*a*a*b` cannot make it backtrack exponentially the way a naive regular expression could.
 */
function matchSegment(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || (pattern[p] !== '*' && pattern[p] === text[t]))) {
      p += 1;
      t += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p;
      resume = t;
      p += 1;
    } else if (star !== -1) {
      p = star + 1;
      resume += 1;
      t = resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}
