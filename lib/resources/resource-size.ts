import { ConfigError } from '../core/errors.js';
import type { Resource } from './resource.js';
import { describeResource } from './resource-identity.js';

/**
 * The most a resource may weigh, as JSON. It is the largest body the API takes (`MAX_BODY_BYTES`), so a
 * resource the deployment's custom resource creates can also be read back, edited and sent again with
 * `midctl`; and it keeps every resource, stored as one item, far below DynamoDB's 400 KB item limit,
 * whose own refusal would name neither the resource nor the way out.
 */
export const MAX_RESOURCE_BYTES = 64 * 1024;

/** Refuses a resource over {@link MAX_RESOURCE_BYTES}, naming it (`at` is where it was given). */
export function refuseOversizedResource(resource: Resource, at: string): void {
  const bytes = Buffer.byteLength(JSON.stringify(resource));
  if (bytes <= MAX_RESOURCE_BYTES) return;
  throw new ConfigError(
    'resource_too_large',
    `${at}: ${describeResource(resource)} is ${Math.ceil(bytes / 1024)} KiB as JSON; a resource may be at most ${MAX_RESOURCE_BYTES / 1024} KiB. Split it into several smaller ones (a bot may hold several roles), or shorten its lists and labels`,
  );
}
