// One "Lambda container" of the worker: imports the bind-worker bundle (as deployed, no tsx in
// this process, so its memory is the worker's own) and runs one invocation at a time for the
// parent's event source over IPC. Answers `{ id, result, durationMs }` or `{ id, error }`; `{ rss: true }`
// asks for the process's peak resident set size, the largest V8 heap seen after an invocation
// (to tell the heap from the rest) and CPU time; `{ exit: true }` ends it.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { reviveContext } from './lambda-context.mjs';

const { handler } = await import(pathToFileURL(process.argv[2]).href);

/** The largest heap (total and used) and external memory seen at the end of an invocation. */
const peak = { heapTotal: 0, heapUsed: 0, external: 0 };
const notePeak = () => {
  const usage = process.memoryUsage();
  for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], usage[key]);
};

process.on('message', async (request) => {
  // A normal exit, so that --cpu-prof (NODE_OPTIONS) can write its profile.
  if (request.exit) process.exit(0);
  if (request.rss) {
    const { user, system } = process.cpuUsage();
    process.send({ id: request.id, maxRssKb: process.resourceUsage().maxRSS, cpuMs: (user + system) / 1000, peakHeapMb: peak.heapTotal / 2 ** 20, peakHeapUsedMb: peak.heapUsed / 2 ** 20, peakExternalMb: peak.external / 2 ** 20 });
    return;
  }
  try {
    const started = performance.now();
    const result = await handler(request.event, reviveContext(request.context, request.remainingMs));
    const durationMs = performance.now() - started;
    notePeak();
    process.send({ id: request.id, result: result ?? null, durationMs });
  } catch (error) {
    process.send({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
process.send({ ready: true });
