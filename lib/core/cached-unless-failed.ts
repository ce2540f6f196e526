/**
 * `build`, run once and its result kept for every later call, except when it fails: the next call then
 * runs it again. What a Lambda builds at cold start (clients, config, CAs) is reused by every warm
 * invocation, while a failed start (a throttled read, a refused config) does not poison the instance.
 */
export function cachedUnlessFailed<T>(build: () => Promise<T>): () => Promise<T> {
  let built: Promise<T> | undefined;
  return () => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return built;
  };
}
