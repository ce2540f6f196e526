import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';
import { parseResource, RESOURCE_KINDS } from '../../lib/resources/resource.js';
import { parseYamlDocuments } from '../../lib/resources/yaml-documents.js';

/** Anything parseResource accepts or refuses must come back as a resource or a ConfigError, never a crash. */
function outcome(run: () => unknown): 'ok' | 'refused' {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (error instanceof ConfigError) return 'refused';
    throw error;
  }
}

const text = fc.oneof(
  fc.string(),
  fc.constantFrom(
    'root',
    '*',
    'v1',
    'v2',
    'v3',
    'v5',
    'v6',
    'v7',
    'openssh',
    'iam',
    'token',
    'Bot',
    '8h',
    '{{internal.logins}}',
  ),
);
const leaf = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: false }),
);
const value = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(
        text,
        fc.constantFrom('kind', 'version', 'metadata', 'spec', 'name', '__proto__', 'constructor'),
      ),
      tie('tree'),
      { maxKeys: 5 },
    ),
  ),
})).tree;

/** Resource-shaped values, so the search gets past kind and version into the schemas. */
const resourceLike = fc.record(
  {
    kind: fc.constantFrom(...RESOURCE_KINDS),
    version: fc.constantFrom('v1', 'v2', 'v3', 'v5', 'v6', 'v7'),
    sub_kind: fc.constant('openssh'),
    metadata: fc.record({ name: text, labels: value, expires: value }, { requiredKeys: [] }),
    spec: value,
    status: value,
  },
  { requiredKeys: ['kind', 'version'] },
);

describe('parseResource on arbitrary input', () => {
  it('never throws anything but a ConfigError', () => {
    fc.assert(
      fc.property(fc.oneof(value, resourceLike, fc.anything()), (input) => {
        expect(['ok', 'refused']).toContain(outcome(() => parseResource(input, 'fuzz.yaml')));
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but a ConfigError on arbitrary YAML text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (yaml) => {
        expect(['ok', 'refused']).toContain(
          outcome(() => parseYamlDocuments(yaml, 'fuzz.yaml').map((doc) => parseResource(doc))),
        );
      }),
      { numRuns: 1000 },
    );
  });
});
