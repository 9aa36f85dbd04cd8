// One "Lambda container" of the worker: imports the bind-worker bundle (as deployed, no tsx in
// this process, so its memory is the worker's own) and runs one invocation at a time for the
// parent's event source over IPC. Answers `{ id, result, durationMs }` or `{ id, error }`; `{ rss: true }`
// asks for the process's peak resident set size and CPU time, `{ exit: true }` ends it.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { reviveContext } from './lambda-context.mjs';

const { handler } = await import(pathToFileURL(process.argv[2]).href);

process.on('message', async (request) => {
  // A normal exit, so that --cpu-prof (NODE_OPTIONS) can write its profile.
  if (request.exit) process.exit(0);
  if (request.rss) {
    const { user, system } = process.cpuUsage();
    process.send({ id: request.id, maxRssKb: process.resourceUsage().maxRSS, cpuMs: (user + system) / 1000 });
    return;
  }
  try {
    const started = performance.now();
    const result = await handler(request.event, reviveContext(request.context, request.remainingMs));
    process.send({ id: request.id, result: result ?? null, durationMs: performance.now() - started });
  } catch (error) {
    process.send({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
process.send({ ready: true });
