import { describe, expect, it } from 'vitest';
import type { AdminApi, ResourceJson } from '../../lib/midctl/admin-api.js';
import { botRemovalNote, instanceRemovalNote } from '../../lib/midctl/running-agent-notes.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');

function instance(id: string, status: Record<string, unknown>): ResourceJson {
  return {
    kind: 'bot_instance',
    metadata: { name: id },
    status: {
      renewable: true,
      latest_authentications: [{ expires_at: '2026-11-21T12:30:00Z' }],
      latest_heartbeats: [],
      ...status,
    },
  };
}

/** An admin API that lists `instances` (all of one bot), as the service would. */
function apiListing(instances: ResourceJson[]): AdminApi {
  return {
    getResources: async (_kind: string, _bot: string, id?: string) =>
      instances.filter((one) => id === undefined || one.metadata.name === id),
  } as unknown as AdminApi;
}

const heartbeat = { recorded_at: '2026-11-21T11:50:00.000Z', hostname: 'ci-runner-7' };

describe('notes on removing a bot or an instance whose agent still runs', () => {
  it('name each active instance by its id, host and last heartbeat', async () => {
    const api = apiListing([
      instance('one', { latest_heartbeats: [heartbeat] }),
      instance('two', {}),
      instance('old', { latest_authentications: [{ expires_at: '2026-11-21T11:00:00Z' }] }),
      instance('stuck', { locked: { at: '2026-11-21T11:00:00Z', reason: 'generation mismatch' } }),
    ]);
    expect(await botRemovalNote(api, 'ci', NOW)).toBe(
      'bot "ci" had 2 active instances, one (on ci-runner-7, last heartbeat 2026-11-21T11:50:00.000Z), two: their midbots are refused at the next renewal or join and stop for good (a re-created bot needs a new join token). Certificates already written stay valid until they expire.',
    );
    expect(await instanceRemovalNote(api, 'ci', 'one', NOW)).toBe(
      'instance ci/one (on ci-runner-7, last heartbeat 2026-11-21T11:50:00.000Z) was active: its midbot is refused at its next renewal and stops until it joins again with a new token (`midctl tokens add --type=bot --bot-name=ci`). Certificates already written stay valid until they expire.',
    );
  });

  it('say an iam instance comes back as a new one at the next run', async () => {
    const api = apiListing([instance('aws', { renewable: false })]);
    expect(await instanceRemovalNote(api, 'lambda', 'aws', NOW)).toBe(
      'instance lambda/aws was active: an iam bot joins again at its next run, as a new instance; to stop it, remove the bot (`midctl bots rm lambda`). Certificates already written stay valid until they expire.',
    );
  });

  it('say nothing of expired or locked instances, whose agents stopped already', async () => {
    const api = apiListing([
      instance('old', { latest_authentications: [{ expires_at: '2026-11-21T11:00:00Z' }] }),
      instance('stuck', { locked: { at: '2026-11-21T11:00:00Z', reason: 'generation mismatch' } }),
    ]);
    expect(await botRemovalNote(api, 'ci', NOW)).toBeUndefined();
    expect(await instanceRemovalNote(api, 'ci', 'old', NOW)).toBeUndefined();
    expect(await instanceRemovalNote(api, 'ci', 'stuck', NOW)).toBeUndefined();
  });
});
