/**
 * Cold start per function: the eagerly loaded code (entry + statically imported chunks, from
 * esbuild's metafile) and the time a fresh Node process takes to import the bundle and serve its
 * first invocation, against the bare equivalent (bench/fixtures/bare-handler.ts: the same work
 * done plainly with the SDKs) bundled and started the same way, serving the same kind of event.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildHandlers, handlerEntries } from '../bin/build.js';
import type { BuildResult, HandlerBundle } from '../bin/build.js';
import { keyMessages } from '../lib/queue/messages.js';
import { createLambdaContext } from '../local/stack/lambda-context.js';
import { apiEvent, sqsEvent } from './events.js';
import type { BenchWorld } from './world.js';

const run = promisify(execFile);
const FIRST_CALL = fileURLToPath(new URL('./child/first-call.mjs', import.meta.url));
export const BARE_HANDLER = 'bare-handler';
const BARE_ENTRY = fileURLToPath(new URL(`./fixtures/${BARE_HANDLER}.ts`, import.meta.url));
/** The deployed functions, by bundle name. */
export const FUNCTIONS = ['login', 'logout', 'delete-account', 'query', 'bind-worker'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** The functions' bundles and the bare equivalent's, built as serverless.yml deploys them. */
export function buildBundles(distDir: string): Promise<BuildResult> {
  return buildHandlers({ outDir: distDir, entries: [...handlerEntries(), BARE_ENTRY] });
}

export const bundleOf = (build: BuildResult, name: string): HandlerBundle => {
  const bundle = build.bundles.find((candidate) => candidate.name === name);
  if (!bundle) throw new Error(`no bundle ${name}`);
  return bundle;
};

/** The first invocation `name` gets, as its trigger would send it; `who` keeps tokens and accounts fresh. */
function firstEvent(world: BenchWorld, name: FunctionName, who: string): unknown {
  const user = { account: `cold-${who}`, pathParameters: { token: `cold-${who}-device` } };
  switch (name) {
    case 'login':
      return apiEvent(world.routes, 'PUT /v1/me/devices/{token}', { ...user, body: { platform: 'android' } });
    case 'logout':
      return apiEvent(world.routes, 'DELETE /v1/me/devices/{token}', { ...user, pathParameters: { token: `cold-${who}-out` }, query: { platform: 'android' } });
    case 'delete-account':
      return apiEvent(world.routes, 'DELETE /v1/me', { ...user, account: `cold-${who}-deleted` });
    case 'query':
      return apiEvent(world.routes, 'GET /v1/me/devices', user);
    case 'bind-worker':
      return sqsEvent(
        keyMessages([{ kind: 'token', platform: 'android', token: `cold-${who}-device` }], { phase: 'push', correlationId: `cold-${who}` }).map(({ message }) => message),
        world.stack.sqs.queueArn,
      );
  }
}

interface FirstCall {
  importMs: number;
  totalMs: number;
  statusCode: number | null;
  batchItemFailures: number | null;
}

async function firstCall(bundle: HandlerBundle, invocationFile: string): Promise<FirstCall> {
  const { stdout } = await run(process.execPath, [FIRST_CALL, bundle.file, invocationFile], { env: process.env, maxBuffer: 16 * 1024 * 1024 });
  const line = stdout.split('\n').find((text) => text.startsWith('FIRST_CALL '));
  if (!line) throw new Error(`${bundle.name}: the cold-start process printed no result`);
  const result = JSON.parse(line.slice('FIRST_CALL '.length)) as FirstCall;
  const ok = (result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300) || result.batchItemFailures === 0;
  if (!ok) throw new Error(`${bundle.name}: first invocation answered ${JSON.stringify(result)}`);
  return result;
}

/** One round: a fresh process per function and one per bare equivalent, interleaved. Samples per function. */
export async function coldRound(world: BenchWorld, build: BuildResult, round: string): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  const samples: Record<string, number> = {};
  try {
    const bare = bundleOf(build, BARE_HANDLER);
    for (const name of FUNCTIONS) {
      const measured: Record<'product' | 'bare', FirstCall | undefined> = { product: undefined, bare: undefined };
      for (const side of ['product', 'bare'] as const) {
        const file = join(dir, `${name}-${side}.json`);
        const { getRemainingTimeInMillis, done: _d, fail: _f, succeed: _s, ...context } = createLambdaContext(name, 10);
        // The bind-worker's key is the one its round's login just recorded (bare: the bare login's);
        // both sides read the same account's devices (the bare login writes no account index).
        const who = name === 'query' ? `${round}-product` : `${round}-${side}`;
        writeFileSync(file, JSON.stringify({ event: firstEvent(world, name, who), context, remainingMs: getRemainingTimeInMillis() }));
        measured[side] = await firstCall(side === 'product' ? bundleOf(build, name) : bare, file);
      }
      const product = measured.product as FirstCall;
      const baseline = measured.bare as FirstCall;
      samples[`coldFirstCallVsBareEquivalent.${name}`] = product.totalMs / baseline.totalMs;
      samples[`cold.${name}.importMs`] = product.importMs;
      samples[`cold.${name}.firstCallMs`] = product.totalMs;
      samples[`cold.bare.${name}.importMs`] = baseline.importMs;
      samples[`cold.bare.${name}.firstCallMs`] = baseline.totalMs;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return samples;
}
