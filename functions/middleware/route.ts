/**
 * One HTTP route: who may call it, how large its body may be, how the request parses into a
 * command input (zod/mini; issue paths name `path.token`, `query.platform`, `body.items.3.token`)
 * and which command runs. The input type is checked here and erased, so a function can list its
 * routes in one table.
 */
import type * as z from 'zod/mini';
import type { Runtime } from '../../lib/config/runtime.js';
import type { CommandMeta } from '../../lib/commands/index.js';
import { parseOrThrow } from '../../lib/triggers/index.js';

/** A user route carries at most a platform and an account type; 4 KB is generous. */
export const USER_BODY_LIMIT_BYTES = 4 * 1024;
/**
 * 10 000 bulk items of the longest token (64) and account (100) are about 2.2 MB of JSON; 4 MB
 * leaves room for whitespace and stays under Lambda's 6 MB synchronous payload limit.
 */
export const ADMIN_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/** What a request offers a route's input schema. `account` is the verified JWT claim. */
export interface RequestParts {
  account: string;
  path: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
}

export type PreparedCommand = (runtime: Runtime, meta: CommandMeta) => Promise<HttpAnswer>;

export interface RouteSpec<I> {
  /** `user`: any verified caller; `admin`: the admin scope is required too. */
  access: 'user' | 'admin';
  /** Whether the route takes a JSON body (parsed only then). */
  takesBody: boolean;
  input: z.ZodMiniType<I>;
  run(runtime: Runtime, input: I, meta: CommandMeta): Promise<HttpAnswer>;
}

export interface Route {
  access: 'user' | 'admin';
  takesBody: boolean;
  maxBodyBytes: number;
  /** Validates the request (throws InvalidInputError naming each bad field) and binds the command. */
  prepare(parts: RequestParts): PreparedCommand;
}

export function route<I>(spec: RouteSpec<I>): Route {
  return {
    access: spec.access,
    takesBody: spec.takesBody,
    maxBodyBytes: spec.access === 'admin' ? ADMIN_BODY_LIMIT_BYTES : USER_BODY_LIMIT_BYTES,
    prepare(parts) {
      const input = parseOrThrow(spec.input, parts, 'request');
      return (runtime, meta) => spec.run(runtime, input, meta);
    },
  };
}
