/**
 * Awaits every promise, then gives all their values or throws the first rejection in argument order.
 *
 * Used for storage calls a request makes at once (one round trip instead of several). Unlike
 * `Promise.all`, a request never answers while one of its calls is still in flight (a Lambda may be
 * frozen as soon as it answers), and which refusal the caller and the audit log see does not depend on
 * which call happened to come back first.
 */
export async function awaitAll<T extends readonly unknown[]>(
  promises: {
    readonly [K in keyof T]: Promise<T[K]>;
  },
): Promise<T> {
  const results = await Promise.allSettled(promises);
  const values: unknown[] = [];
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason;
    values.push(result.value);
  }
  return values as unknown as T;
}
