import * as z from 'zod';

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
