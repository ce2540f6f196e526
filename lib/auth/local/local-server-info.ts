import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { localServerFiles } from './local-server-files.js';

/**
 * `<data-dir>/auth-server.json`: what the local auth service records at every start for midctl on the
 * same host, which reads it back with this schema rather than trusting whatever the file holds.
 */
export const localServerInfoSchema = z.strictObject({
  /** The address midctl calls (a loopback one when the service listens on all interfaces). */
  url: z.url({ protocol: /^https$/, error: 'expected the https URL the auth service listens on' }),
  cluster_name: z.string(),
  ca_pin: z.string(),
  pid: z.number().int().positive(),
  /** The host of `--listen`; absent in files of services started before it was recorded. */
  listen_host: z.string().optional(),
  /** `--public-addr`; absent in files of services started before it was recorded. */
  public_addrs: z.array(z.string()).optional(),
});

/** The content of `auth-server.json`. */
export type LocalServerInfo = z.infer<typeof localServerInfoSchema>;

/**
 * The data directory's `auth-server.json` when it holds what a start wrote, else undefined: for
 * callers that only look for a hint in it (the address of the last start, of a service holding the
 * lock) and do without one. midctl, which needs it, refuses a bad file with its own words instead.
 */
export function readLocalServerInfoIfValid(dataDir: string): LocalServerInfo | undefined {
  try {
    const parsed = localServerInfoSchema.safeParse(
      JSON.parse(readFileSync(localServerFiles(dataDir).serverInfo, 'utf8')),
    );
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
