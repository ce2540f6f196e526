import { parseResource, type Resource } from './resource.js';
import { readYamlDocuments } from './yaml-documents.js';

/**
 * Reads every resource of a multi-document YAML text. Errors name the source and the line of the
 * offending field.
 *
 * Kept apart from `resource.ts`, which the auth service imports to check resources: the admin API
 * carries them as JSON, so importing the checker must not load the YAML parser.
 *
 * @throws ConfigError `invalid_yaml` for YAML that cannot be read safely, `invalid_resource` for a
 *   document that is not a valid resource.
 */
export function parseResources(text: string, source: string): Resource[] {
  return readYamlDocuments(text, source).map((doc) => parseResource(doc.value, source, doc.locate));
}
