/**
 * How this project builds its AWS SDK clients (the ledger's DynamoDB client, the queues' SQS
 * client): the options they are made with, and the one middleware taken off them.
 */
import { Sha256 } from './sdk-sha256.js';

/**
 * Spread into every SDK client's options. `sha256`: ./sdk-sha256.ts. `cacheMiddleware`: each
 * command type's middleware stack is resolved once per client, not on every request (~5 % of a
 * request's CPU); this project adds middleware to clients only, before their first send, never
 * to single commands.
 */
export const SDK_CLIENT_OPTIONS = { sha256: Sha256, cacheMiddleware: true } as const;

/**
 * Takes the SDK's logger middleware off a client, before its first send. It builds a redacted
 * copy of every request's input and response's output for `logger.info`, and the default
 * NoOpLogger has an `info` that drops it: the copy is made for nothing, a walk over every item
 * of every batch call. These clients have no logger: their errors reach the callers, which log
 * them through Powertools.
 */
export function withoutSdkLogging<C extends { middlewareStack: { remove(name: string): boolean } }>(client: C): C {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
