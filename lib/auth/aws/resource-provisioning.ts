import * as z from 'zod';
import { builtOnFirstUse } from '../../core/built-on-first-use.js';
import { NotFoundError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import type { AuthService } from '../auth-service.js';

/**
 * The CloudFormation custom resource (through the CDK Provider framework) that applies the deployment's
 * resources — roles, apps, bots and their iam tokens — to the auth service on every deploy. The schema
 * is built, and the YAML parser loaded, when such an event first arrives: only deploys send one.
 */
export const provisioningEventSchema = builtOnFirstUse(() =>
  z.looseObject({
    RequestType: z.enum(['Create', 'Update', 'Delete']),
    ResourceProperties: z.looseObject({ Resources: z.string().max(1_000_000).default('') }),
    OldResourceProperties: z.looseObject({ Resources: z.string().max(1_000_000).default('') }).optional(),
    PhysicalResourceId: z.string().optional(),
  }),
);
export type ProvisioningEvent = z.infer<typeof provisioningEventSchema>;

export const PHYSICAL_RESOURCE_ID = 'machine-id-resources';
const ACTOR = 'cloudformation';

export function isProvisioningEvent(event: unknown): boolean {
  return (
    typeof event === 'object' && event !== null && 'RequestType' in event && 'ResourceProperties' in event
  );
}

function references(documents: readonly unknown[]): Array<{ kind: string; name: string }> {
  return documents.map((document) => {
    const { kind, metadata } = document as { kind: string; metadata: { name: string } };
    return { kind, name: metadata.name };
  });
}

async function removeAll(
  service: AuthService,
  refs: ReadonlyArray<{ kind: string; name: string }>,
  options: { readonly evenIfHeld: boolean },
): Promise<void> {
  // Bots first: removing a bot also removes its tokens and instances.
  const ordered = [...refs].sort((a, b) => Number(b.kind === 'bot') - Number(a.kind === 'bot'));
  for (const ref of ordered) {
    try {
      await service.admin.deleteResource(ref.kind, ref.name, undefined, ACTOR, options);
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
  // The resources come as YAML. The parser is loaded here, when a deploy sends them: the API requests
  // that make up the rest of the auth Lambda's cold starts never evaluate it. (The bundler turns the
  // module, and everything it imports, into a function run on first use; it imports nothing of zod,
  // which every request needs at once and which starts slower when wrapped so.)
  const { parseYamlDocuments } = await import('../../resources/yaml-documents.js');
  const documents = parseYamlDocuments(parsed.ResourceProperties.Resources, 'Resources');
  if (parsed.RequestType === 'Delete') {
    // The stack goes: everything it made goes, even a role a bot made with midctl still holds.
    await removeAll(service, references(documents), { evenIfHeld: true });
    return { PhysicalResourceId: parsed.PhysicalResourceId ?? PHYSICAL_RESOURCE_ID, Data: { Applied: 0 } };
  }
  if (documents.length > 0) await service.admin.putResources(documents, true, ACTOR);
  if (parsed.RequestType === 'Update' && parsed.OldResourceProperties !== undefined) {
    const kept = new Set(references(documents).map((ref) => `${ref.kind}/${ref.name}`));
    const old = parseYamlDocuments(parsed.OldResourceProperties.Resources, 'Resources');
    // A role that left the file but that a bot still holds fails the deploy, naming the bot.
    await removeAll(
      service,
      references(old).filter((ref) => !kept.has(`${ref.kind}/${ref.name}`)),
      { evenIfHeld: false },
    );
  }
  return { PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { Applied: documents.length } };
}
