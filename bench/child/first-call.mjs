// One cold start in a fresh Node process: import a handler bundle and serve its first
// invocation. Prints `FIRST_CALL { importMs, firstCallMs, totalMs, statusCode, ... }` as the
// last line on stdout (the handler may log before it), then exits: the measurement is done.
// Usage: node first-call.mjs <bundle.mjs> <invocation.json>   (invocation: { event, context, remainingMs })
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { reviveContext } from './lambda-context.mjs';

const [bundle, invocationFile] = process.argv.slice(2);
const { event, context, remainingMs } = JSON.parse(readFileSync(invocationFile, 'utf8'));

const started = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const imported = performance.now();
const result = await handler(event, reviveContext(context, remainingMs));
const answered = performance.now();

process.stdout.write(
  `\nFIRST_CALL ${JSON.stringify({
    importMs: imported - started,
    firstCallMs: answered - imported,
    totalMs: answered - started,
    statusCode: result?.statusCode ?? null,
    batchItemFailures: result?.batchItemFailures?.length ?? null,
  })}\n`,
);
process.exit(0);
