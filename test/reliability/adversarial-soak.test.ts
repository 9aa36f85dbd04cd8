/**
 * The adversarial model test's seeded mixed workload: 24 users (4 of them on account type 1)
 * share 30 device tokens (22 Android, 8 iOS) and act concurrently, each waiting only for its own
 * answers: sign-ins and sign-outs (HTTP and EventBridge; stale sign-outs too), account deletions,
 * admin bulks (binds above one TPNS call are queued, 202), reads of their own devices (a sign-in
 * is read back at once: read-your-writes). The worker runs alongside with random pick-up delays.
 * A share of callers (GIVE_UP_RATE) give up at the first 503 instead of retrying.
 * The worker's sweep runs every second on every token not yet verified, its pushes racing the
 * users' own. Faults all along (support/adversarial.ts MIXED_FAULTS, plus short SQS outages), then quiet:
 * G1 and G2 must be 0, every deleted account's erasure receipt verified, no erased account in
 * plaintext in the ledger.
 *
 * SOAK_OPS (default 500 per seed) and SOAK_SEEDS (default 3; seeds 1..n, or SOAK_SEED=<n> for one)
 * size the run: `SOAK_OPS=50000 SOAK_SEEDS=1 npx vitest run test/reliability/adversarial-soak.test.ts`.
 * A seed fixes each user's sequence of choices; the interleaving of users, worker and TPNS is
 * the run's own. To investigate: ADVERSARIAL_LOG_LEVEL=WARN shows the product's log lines,
 * ADVERSARIAL_DUMP=/tmp/run writes each seed's history, TPNS request log and figures to
 * /tmp/run.<seed>.json.
 */
import './support/quiet.js';
import { afterEach, describe, expect, it } from 'vitest';
import { handler as bindWorker } from '../../functions/bind-worker.js';
import { createLambdaContext } from '../../local/stack/lambda-context.js';
import { scheduledEvent, startSchedule } from '../../local/stack/schedule.js';
import { seededRandom } from '../../local/seeded-random.js';
import { explain, measure, MIXED_FAULTS, report, startAdversarialStack } from './support/adversarial.js';
import type { AdversarialStack } from './support/adversarial.js';
import { maybeApplied } from './support/model.js';
import { injectFaults, population, runMixed, startDelayedWorker, World } from './support/world.js';
import { figureText } from '../support/output.js';

const OPERATIONS = Number(process.env.SOAK_OPS ?? 500);
const SEEDS = process.env.SOAK_SEED
  ? [Number(process.env.SOAK_SEED)]
  : Array.from({ length: Number(process.env.SOAK_SEEDS ?? 3) }, (_, i) => i + 1);
/** The queue unreachable for a moment now and then: requests answer 503 and are retried. */
const SQS_OUTAGE = { outageEveryMs: 7_000, outageMs: 250 };
const TIMEOUT_MS = Math.max(150_000, OPERATIONS * 400);
const PROGRESS_EVERY_MS = 10_000;
/** Callers who give up at the first 503: their refusals may still have been recorded (window 4), and the model allows both. */
const GIVE_UP_RATE = 0.3;
/**
 * The worker's schedule at its most aggressive: a sweep this often (ms) of every token not yet
 * verified (SWEEP_AFTER_SECONDS=0), so its pushes race the users' own (SOAK_SWEEP_MS; 0: off).
 */
const SWEEP_EVERY_MS = Number(process.env.SOAK_SWEEP_MS ?? 1_000);

let world: AdversarialStack | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe(`adversarial soak: ${OPERATIONS} operations per seed, seeds ${SEEDS.join(', ')}`, () => {
  it.each(SEEDS)('seed %i: G1 = 0 and G2 = 0 after faults, receipts verified, no plaintext', { timeout: TIMEOUT_MS }, async (seed) => {
    world = await startAdversarialStack(SWEEP_EVERY_MS > 0 ? { SWEEP_AFTER_SECONDS: '0' } : {});
    const { stack, sqsProxy } = world;
    const random = seededRandom(seed);
    startDelayedWorker(stack, seed * 7919, { via: world.viaProxy });
    const history = new World(random, { giveUpRate: GIVE_UP_RATE });
    const people = population(`s${seed}`, { users: 24, typed: 4, tokens: 30, ios: 8 });
    const started = Date.now();
    const stopFaults = injectFaults(stack, sqsProxy, { ...MIXED_FAULTS, sqs: { ...MIXED_FAULTS.sqs, ...SQS_OUTAGE } }, seed);
    let done = 0;
    const sweeps = { runs: 0, failed: 0 };
    // As npm start runs it (no two sweeps at once); one failing under the faults is the next one's to redo.
    const sweeper =
      SWEEP_EVERY_MS > 0
        ? startSchedule(() => bindWorker(scheduledEvent(), createLambdaContext('bindWorker', 60)).then(() => (sweeps.runs += 1)), SWEEP_EVERY_MS / 1000, () => (sweeps.failed += 1))
        : undefined;
    // Progress of long runs only: the CI size stays at its figure lines.
    const progress = setInterval(() => {
      if (OPERATIONS > 1_000) console.log(`progress seed ${seed}: ${done}/${OPERATIONS} operations, ${Math.round((Date.now() - started) / 1000)} s`);
    }, PROGRESS_EVERY_MS);
    try {
      await runMixed({ world: history, population: people, operations: OPERATIONS, seed, onProgress: (n) => (done = n) });
    } finally {
      stopFaults();
      clearInterval(progress);
      await sweeper?.stop();
    }
    const driven = Date.now();
    await stack.quiesce();
    const measured = await measure(stack, history);
    const seconds = (at: number) => Math.round((at - started) / 100) / 10;
    const counters = stack.tpns.counters();
    const summary = {
      seed,
      operations: history.records.length,
      byKind: history.stats.byKind,
      answers: history.stats.answers,
      callerRetries: history.stats.retries,
      refused: {
        total: history.records.filter((record) => record.status === 'refused').length,
        maybeRecorded: history.records.filter(maybeApplied).length,
        tookEffect: measured.maybeApplied,
      },
      tpnsCalls: counters.requests,
      tpnsFaults: counters.byFault,
      dynamoFaults: Object.values(stack.dynamo.faults.injected()).reduce((sum, n) => sum + n, 0),
      sqs: { callsFailed: sqsProxy.counters().callsFailed, entriesRefused: sqsProxy.counters().entriesRefused },
      deadLetters: measured.deadLetters.length,
      ...(SWEEP_EVERY_MS > 0 ? { sweeps } : {}),
      seconds: { driving: seconds(driven), total: seconds(Date.now()) },
    };
    report(`soak seed ${seed}`, measured);
    console.log(`figures seed ${seed}: ${figureText(summary)}`);
    const why = () => explain(stack, history, measured);
    if (process.env.ADVERSARIAL_DUMP) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${process.env.ADVERSARIAL_DUMP}.${seed}.json`, JSON.stringify({ records: history.records, requests: stack.tpns.requests(), measured }));
    }
    expect(history.unexpected).toEqual([]);
    expect.soft(measured.g1, why()).toBe(0);
    // G2 has one residual window (docs/reliability.md, "Residual windows" 3: a request started
    // before an answer but received after it, on a saturated machine): 0 to 0.007 % of writes in
    // the long runs. Held to that order here, stale removals too, so a regression to the old
    // design's rates (0.4 stale writes per operation) fails at once.
    expect.soft(measured.g2 / Math.max(1, measured.writes), why()).toBeLessThanOrEqual(0.005);
    expect.soft(measured.staleRemovals / Math.max(1, measured.writes), why()).toBeLessThanOrEqual(0.005);
    expect.soft(measured.unverifiedErasures, why()).toEqual([]);
    expect.soft(measured.plaintext).toEqual([]);
    // The faults really happened, and the work really went through every path.
    for (const kind of ['http500', 'internal', 'rate-limit', 'drop', 'latency']) expect(counters.byFault[kind] ?? 0, kind).toBeGreaterThan(0);
    expect(summary.dynamoFaults).toBeGreaterThan(0);
    if (SWEEP_EVERY_MS > 0) expect(sweeps.runs).toBeGreaterThan(0);
    expect(summary.sqs.callsFailed + summary.sqs.entriesRefused).toBeGreaterThan(0);
    expect(history.stats.answers['202'] ?? 0).toBeGreaterThan(0);
    expect(history.records.filter((record) => record.status === 'accepted').length).toBeGreaterThan(OPERATIONS * 0.95);
  });
});
