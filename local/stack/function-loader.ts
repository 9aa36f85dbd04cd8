/**
 * Loads a function's handler the way Lambda resolves serverless.yml's `handler:` string
 * (`functions/login.handler` -> export `handler` of `functions/login.ts`). Runs the TypeScript
 * sources directly (tsx under `npm start`, vite under vitest), so edits need no build step.
 *
 * Why hand-written: serverless-offline cannot host this HTTP API (JWT authorizer crash, `!Ref` left unresolved) (docs/architecture.md, "Why local/ is hand-written").
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { Context } from 'aws-lambda';

/** The repository root (serverless.yml's directory). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type LambdaHandler<TEvent = never, TResult = unknown> = (
  event: TEvent,
  context: Context,
) => Promise<TResult>;

export class HandlerNotFoundError extends Error {
  override readonly name = 'HandlerNotFoundError';
}

export async function loadHandler<TEvent, TResult>(handler: string): Promise<LambdaHandler<TEvent, TResult>> {
  const separator = handler.lastIndexOf('.');
  if (separator <= 0) throw new HandlerNotFoundError(`handler "${handler}" is not <module>.<export>`);
  const modulePath = path.join(PROJECT_ROOT, `${handler.slice(0, separator)}.ts`);
  const exportName = handler.slice(separator + 1);
  const module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  const exported = module[exportName];
  if (typeof exported !== 'function') {
    throw new HandlerNotFoundError(`${modulePath} does not export a function "${exportName}"`);
  }
  return exported as LambdaHandler<TEvent, TResult>;
}
