import { describe, expect, it } from 'vitest';
import { cachedUnlessFailed } from '../../lib/core/cached-unless-failed.js';

describe('cachedUnlessFailed', () => {
  it('builds once for every call, also calls made while the first build runs', async () => {
    let builds = 0;
    const get = cachedUnlessFailed(async () => {
      builds += 1;
      return { built: builds };
    });
    const [a, b] = await Promise.all([get(), get()]);
    expect(await get()).toBe(a);
    expect(b).toBe(a);
    expect(builds).toBe(1);
  });

  it('builds again at the next call after a failed build', async () => {
    let builds = 0;
    const get = cachedUnlessFailed(async () => {
      builds += 1;
      if (builds === 1) throw new Error('throttled');
      return builds;
    });
    await expect(get()).rejects.toThrow('throttled');
    expect(await get()).toBe(2);
    expect(await get()).toBe(2);
    expect(builds).toBe(2);
  });
});
