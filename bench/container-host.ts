/**
 * One "Lambda container", a Node process of its own: imports a handler bundle (argv[2]) and serves
 * invocations from its parent (bench/containers.ts) over IPC, one at a time. Bundled by the bench
 * (no tsx here), so that its memory and its cold start are the bundle's own.
 *
 * Says `{ ready, importMs }` once the bundle is imported. Answers `{ id, event, functionName,
 * remainingMs }` with `{ id, result, durationMs, cpuMs }` or `{ id, error }`; `{ id, usage: true }` with
 * the process's peak RSS (sampled) and the largest V8 heap seen after an invocation (to tell the heap from
 * the rest); `{ exit: true }` ends it.
 */
import type { Context } from 'aws-lambda';
import { pathToFileURL } from 'node:url';
import { createLambdaContext } from '../local/stack/lambda-context.js';

type Handler = (event: unknown, context: Context) => Promise<unknown>;
type Request = { id: number; exit?: true; usage?: true; event?: unknown; functionName?: string; remainingMs?: number };

const send = (message: Record<string, unknown>) => process.send?.(message);

const started = performance.now();
const { handler } = (await import(pathToFileURL(process.argv[2] ?? '').href)) as { handler: Handler };
const importMs = performance.now() - started;

/** The largest heap (total and used) and external memory seen at the end of an invocation. */
const peak = { heapTotal: 0, heapUsed: 0, external: 0 };

/**
 * The process's peak RSS, sampled. Not getrusage's maxRSS: Linux carries the forking process's
 * high-water mark across exec, so a container forked by a 600 MB bench process reported 600 MB.
 */
const RSS_SAMPLE_MS = 10;
let peakRss = process.memoryUsage.rss();
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
};
setInterval(sampleRss, RSS_SAMPLE_MS).unref();

process.on('message', (request: Request) => {
  // A normal exit, so that --cpu-prof (BENCH_CPU_PROF_DIR) can write its profile.
  if (request.exit) process.exit(0);
  if (request.usage) {
    sampleRss();
    send({ id: request.id, peakRssMb: peakRss / 2 ** 20, peakHeapMb: peak.heapTotal / 2 ** 20, peakHeapUsedMb: peak.heapUsed / 2 ** 20, peakExternalMb: peak.external / 2 ** 20 });
    return;
  }
  void (async () => {
    try {
      const context = createLambdaContext(request.functionName ?? 'bench', (request.remainingMs ?? 60_000) / 1000, Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 256));
      const invoked = performance.now();
      const cpuBefore = process.cpuUsage();
      const result = await handler(request.event, context);
      const durationMs = performance.now() - invoked;
      const cpu = process.cpuUsage(cpuBefore);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      sampleRss();
      const usage = process.memoryUsage();
      for (const key of ['heapTotal', 'heapUsed', 'external'] as const) peak[key] = Math.max(peak[key], usage[key]);
      send({ id: request.id, result: result ?? null, durationMs, cpuMs });
    } catch (error) {
      send({ id: request.id, error: error instanceof Error ? error.message : String(error) });
    }
  })();
});
send({ ready: true, importMs });
