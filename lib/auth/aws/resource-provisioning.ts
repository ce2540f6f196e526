import * as z from 'zod';
import { NotFoundError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import { parseYamlDocuments } from '../../resources/yaml-documents.js';
import type { AuthService } from '../auth-service.js';

/**
 * The CloudFormation custom resource (through the CDK Provider framework) that applies the deployment's
 * resources — roles, apps, bots and their iam tokens — to the auth service on every deploy.
 */
export const provisioningEventSchema = z.looseObject({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResourceProperties: z.looseObject({ Resources: z.string().max(1_000_000).default('') }),
  OldResourceProperties: z.looseObject({ Resources: z.string().max(1_000_000).default('') }).optional(),
  PhysicalResourceId: z.string().optional(),
});
export type ProvisioningEvent = z.infer<typeof provisioningEventSchema>;

export const PHYSICAL_RESOURCE_ID = 'machine-id-resources';
const ACTOR = 'cloudformation';

export function isProvisioningEvent(event: unknown): boolean {
  return (
    typeof event === 'object' && event !== null && 'RequestType' in event && 'ResourceProperties' in event
  );
}

function references(yaml: string): Array<{ kind: string; name: string }> {
  return parseYamlDocuments(yaml, 'Resources').map((document) => {
    const { kind, metadata } = document as { kind: string; metadata: { name: string } };
    return { kind, name: metadata.name };
  });
}

async function removeAll(
  service: AuthService,
  refs: ReadonlyArray<{ kind: string; name: string }>,
): Promise<void> {
  // Bots first: removing a bot also removes its tokens and instances.
  const ordered = [...refs].sort((a, b) => Number(b.kind === 'bot') - Number(a.kind === 'bot'));
  for (const ref of ordered) {
    try {
      await service.admin.deleteResource(ref.kind, ref.name, undefined, ACTOR);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
}

/** Create/Update: create-or-replace every resource, then remove those the new template dropped. Delete: remove them. */
export async function provisionResources(
  service: AuthService,
  event: unknown,
): Promise<{ PhysicalResourceId: string; Data: { Applied: number } }> {
  const parsed = parseWithSchema(provisioningEventSchema, event, { root: 'event', code: 'invalid_event' });
  const wanted = parsed.ResourceProperties.Resources;
  if (parsed.RequestType === 'Delete') {
    await removeAll(service, references(wanted));
    return { PhysicalResourceId: parsed.PhysicalResourceId ?? PHYSICAL_RESOURCE_ID, Data: { Applied: 0 } };
  }
  const documents = parseYamlDocuments(wanted, 'Resources');
  if (documents.length > 0) await service.admin.putResources(documents, true, ACTOR);
  if (parsed.RequestType === 'Update' && parsed.OldResourceProperties !== undefined) {
    const kept = new Set(references(wanted).map((ref) => `${ref.kind}/${ref.name}`));
    await removeAll(
      service,
      references(parsed.OldResourceProperties.Resources).filter(
        (ref) => !kept.has(`${ref.kind}/${ref.name}`),
      ),
    );
  }
  return { PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { Applied: documents.length } };
}
