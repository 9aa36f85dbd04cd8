/**
 * Cold start per function: the eagerly loaded code (entry + statically imported chunks, from
 * esbuild's metafile) and the time a fresh Node process takes to import the bundle and serve its
 * first invocation, against an empty handler bundled and measured the same way.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { buildHandlers, handlerEntries } from '../bin/build.js';
import type { BuildResult, HandlerBundle } from '../bin/build.js';
import { createLambdaContext } from '../local/stack/lambda-context.js';
import { apiEvent, sqsEvent } from './events.js';
import type { BenchStack } from './stack.js';
import { summarize } from './stats.js';
import type { Summary } from './stats.js';

const run = promisify(execFile);
const FIRST_CALL = fileURLToPath(new URL('./child/first-call.mjs', import.meta.url));
/** Baselines bundled and measured like the functions: a handler doing nothing, and one plain signed fetch. */
export const EMPTY_HANDLER = 'empty-handler';
export const FETCH_HANDLER = 'fetch-handler';
const BASELINE_ENTRIES = [EMPTY_HANDLER, FETCH_HANDLER].map((name) => fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url)));

export interface Contributor {
  /** An npm package, or `project` for this repository's own code. */
  module: string;
  bytes: number;
}

export interface ColdStartFigures {
  /** Eagerly loaded bytes (minified). */
  bytes: number;
  /** Bytes left to lazily loaded chunks (SQS, SSM clients). */
  lazyBytes: number;
  /** Importing the bundle, in the fresh process (ms). */
  importMs: Summary;
  /** Import + first invocation, in the fresh process (ms). */
  firstCallMs: Summary;
  /** Spawn to exit of the whole process, Node's own start included (ms). */
  processMs: Summary;
  /** firstCallMs median / the empty handler's. */
  vsEmpty: number;
  /** importMs median / the empty handler's. */
  importVsEmpty: number;
  /** firstCallMs median / the plain-fetch handler's (the floor of a function that calls TPNS). */
  vsFetchHandler: number;
  /** What the eager code is made of, largest first. */
  topContributors: Contributor[];
}

export function buildWithEmptyHandler(distDir: string): Promise<BuildResult> {
  return buildHandlers({ outDir: distDir, entries: [...handlerEntries(), ...BASELINE_ENTRIES] });
}

const packageOf = (input: string): string => {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match?.[1] ?? 'project';
};

/** The eager code's bytes by package (esbuild's analyzeMetafile, grouped). */
export function contributors(metafile: Metafile, bundle: HandlerBundle, top = 8): Contributor[] {
  const bytes = new Map<string, number>();
  for (const file of bundle.eagerFiles) {
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[file]?.inputs ?? {})) {
      bytes.set(packageOf(input), (bytes.get(packageOf(input)) ?? 0) + bytesInOutput);
    }
  }
  return [...bytes]
    .map(([module, size]) => ({ module, bytes: size }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}

/** The first invocation each function gets, as its trigger would send it. */
function firstEvent(stack: BenchStack, name: string): unknown {
  const user = { account: 'cold-user', pathParameters: { token: 'cold-start-token-0001' } };
  switch (name) {
    case 'login':
    case EMPTY_HANDLER:
    case FETCH_HANDLER:
      return apiEvent(stack.routes, 'PUT /v1/me/devices/{token}', { ...user, body: { platform: 'android' } });
    case 'logout':
      return apiEvent(stack.routes, 'DELETE /v1/me/devices/{token}', { ...user, query: { platform: 'android' } });
    case 'delete-account':
      return apiEvent(stack.routes, 'DELETE /v1/me', user);
    case 'query':
      return apiEvent(stack.routes, 'GET /v1/me/devices', user);
    case 'bind-worker':
      return sqsEvent({ kind: 'bind', platform: 'android', items: [{ token: 'cold-start-token-0002', account: 'cold-user' }] }, stack.sqs.queueArn);
    default:
      throw new Error(`no first event for ${name}`);
  }
}

interface FirstCall {
  importMs: number;
  totalMs: number;
  statusCode: number | null;
  batchItemFailures: number | null;
}

async function firstCall(bundle: HandlerBundle, invocationFile: string): Promise<FirstCall & { processMs: number }> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, [FIRST_CALL, bundle.file, invocationFile], { env: process.env, maxBuffer: 16 * 1024 * 1024 });
  const processMs = performance.now() - started;
  const line = stdout.split('\n').find((text) => text.startsWith('FIRST_CALL '));
  if (!line) throw new Error(`${bundle.name}: the cold-start process printed no result`);
  const result = JSON.parse(line.slice('FIRST_CALL '.length)) as FirstCall;
  const ok = result.statusCode === 200 || result.batchItemFailures === 0;
  if (!ok) throw new Error(`${bundle.name}: first invocation answered ${JSON.stringify(result)}`);
  return { ...result, processMs };
}

/** `runs` fresh processes per bundle, bundles interleaved so machine noise spreads evenly. */
export async function measureColdStarts(stack: BenchStack, build: BuildResult, runs: number): Promise<Record<string, ColdStartFigures>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  try {
    const invocations = new Map(
      build.bundles.map((bundle) => {
        const file = join(dir, `${bundle.name}.json`);
        const { getRemainingTimeInMillis, done: _d, fail: _f, succeed: _s, ...context } = createLambdaContext(bundle.name, 10);
        writeFileSync(file, JSON.stringify({ event: firstEvent(stack, bundle.name), context, remainingMs: getRemainingTimeInMillis() }));
        return [bundle.name, file];
      }),
    );
    const samples = new Map(build.bundles.map((bundle) => [bundle.name, { import: [] as number[], total: [] as number[], process: [] as number[] }]));
    for (let round = 0; round < runs; round++) {
      for (const bundle of build.bundles) {
        const result = await firstCall(bundle, invocations.get(bundle.name) as string);
        const own = samples.get(bundle.name);
        own?.import.push(result.importMs);
        own?.total.push(result.totalMs);
        own?.process.push(result.processMs);
      }
    }
    const median = (name: string, pick: 'import' | 'total') => summarize(samples.get(name)?.[pick] ?? []).median;
    return Object.fromEntries(
      build.bundles.map((bundle) => {
        const own = samples.get(bundle.name) ?? { import: [], total: [], process: [] };
        const firstCallMs = summarize(own.total);
        const importMs = summarize(own.import);
        return [
          bundle.name,
          {
            bytes: bundle.eagerBytes,
            lazyBytes: bundle.lazyBytes,
            importMs,
            firstCallMs,
            processMs: summarize(own.process),
            vsEmpty: firstCallMs.median / median(EMPTY_HANDLER, 'total'),
            importVsEmpty: importMs.median / median(EMPTY_HANDLER, 'import'),
            vsFetchHandler: firstCallMs.median / median(FETCH_HANDLER, 'total'),
            topContributors: contributors(build.metafile, bundle),
          },
        ];
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
