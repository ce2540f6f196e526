import * as z from 'zod';

/**
 * `build()`'s schema, built when it first checks a value rather than when its module is imported.
 * Building a zod schema takes time (every part of it is an object of its own), which a process pays
 * at start-up for each schema it imports; this is for schemas it may never use, such as the resource
 * schemas in the auth service, which only admin calls and deploys check anything against.
 */
export function builtOnFirstUse<T extends z.ZodType>(build: () => T): z.ZodLazy<T> {
  return z.lazy(build);
}
