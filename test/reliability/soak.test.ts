/**
 * Model-based soak test: a seeded mix of sign-ins, sign-outs, account deletions and admin bulk
 * operations (Android and iOS, users sharing devices) through the real handlers, fauxqs and
 * the real worker, while TPNS fails (HTTP 500, 1008004, 1008028, latency past the client's
 * timeout, dropped connections) and SQS refuses some batch entries. The emulator's final
 * bindings must equal the model's; the dead-letter queue must hold exactly the invalid tokens.
 *
 * SOAK_OPS (default 5 000) and SOAK_SEED (default 20261122) size and vary the run.
 * The ordering guarantee under test is described in docs/reliability.md.
 */
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetRuntimeForTests } from '../../lib/config/runtime.js';
import type { FaultKind, RequestLogEntry } from '../../local/tpns-emulator/index.js';
import { emfPoints, metricSum } from './support/capture.js';
import { drive, newDriveStats } from './support/drive.js';
import { mismatches, normalise } from './support/model.js';
import { startObservingProxy } from './support/observing-proxy.js';
import type { ObservingProxy } from './support/observing-proxy.js';
import { generateOperations, keysOf, keysOfMessage, keysOfTpnsRequest } from './support/operations.js';
import { ANY_KEY, runPaced } from './support/scheduler.js';
import { queuedBodies, startReliabilityStack } from './support/stack.js';
import type { ReliabilityStack } from './support/stack.js';

const OPERATIONS = Number(process.env.SOAK_OPS ?? 5_000);
const SEED = Number(process.env.SOAK_SEED ?? 20_261_122);
const CONCURRENCY = 128;
/** Client timeout below the injected latency, so a slow answer is a timeout (and a retry) for the client. */
const TPNS_TIMEOUT_MS = 800;
const SLOW_ANSWER_MS = 1_200;
/** The worker gives up on a call after this, so fault storms also make it hand messages back (redelivery). */
const WORKER_BUDGET_MS = 1_500;
/** Lambda timeout the worker's context reports; its deadline is this minus its 8 s reserve. */
const WORKER_TIMEOUT_S = 10;
/** Longer than one worker invocation can last, as serverless.yml's 360 s is for the deployed one. */
const VISIBILITY_S = 6;
const BACKGROUND_FAULTS: Partial<Record<FaultKind, number>> = { http500: 0.02, internal: 0.02, 'rate-limit': 0.02, drop: 0.01, latency: 0.01 };
const STORMS: readonly FaultKind[] = ['internal', 'http500', 'rate-limit', 'drop', 'latency'];
/** Storms are time-bound (a count-bound rule would wait, armed, through a quiet spell). */
const STORM_EVERY_MS = 5_000;
const STORM_FOR_MS = 1_000;
const STORM_RATE = 0.6;
const SQS_REFUSAL_EVERY_MS = 3_000;
const SQS_REFUSAL_FOR_MS = 600;
/** fauxqs refuses, per entry, messages above MaximumMessageSize: 20-item chunks exceed it, single-token ones do not. */
const SMALL_MESSAGE_LIMIT = '1024';
const NORMAL_MESSAGE_LIMIT = '1048576';

const TIMEOUT_MS = Math.max(300_000, OPERATIONS * 60);

/** What TPNS was asked about one token (to explain a mismatch). */
function historyOf(requests: RequestLogEntry[], token: string) {
  return requests
    .filter((entry) => JSON.stringify(entry.body ?? '').includes(token))
    .map(({ time, operatorType, fault, httpStatus, retCode, latencyMs, body }) => ({ time, operatorType, fault, latencyMs, httpStatus, retCode, body: JSON.stringify(body).slice(0, 200) }));
}

describe(`soak: ${OPERATIONS} operations under injected faults`, () => {
  let stack: ReliabilityStack;
  let sqsProxy: ObservingProxy;
  let tpnsProxy: ObservingProxy;
  let sqsEntriesRefused = 0;
  const mix = generateOperations(OPERATIONS, SEED);

  beforeAll(async () => {
    stack = await startReliabilityStack({
      invalidTokens: [...mix.invalidTokens],
      env: { TPNS_TIMEOUT_MS: String(TPNS_TIMEOUT_MS), WORKER_RETRY_BUDGET_MS: String(WORKER_BUDGET_MS), POWERTOOLS_LOG_LEVEL: process.env.SOAK_LOG_LEVEL ?? 'ERROR' },
    });
    // The functions reach SQS and TPNS through pass-through proxies: one counts the entries SQS
    // refused; the other knows which TPNS calls are still being applied, including those the
    // client gave up on (latency past its timeout): TPNS applies them anyway, possibly later.
    sqsProxy = await startObservingProxy(stack.sqs.endpoint, ({ headers, status, answer }) => {
      if (headers['x-amz-target'] === 'AmazonSQS.SendMessageBatch' && status === 200) {
        sqsEntriesRefused += ((JSON.parse(answer.toString('utf8')) as { Failed?: unknown[] }).Failed ?? []).length;
      }
    });
    tpnsProxy = await startObservingProxy(stack.tpns.url);
    process.env.AWS_ENDPOINT_URL_SQS = sqsProxy.endpoint;
    process.env.TPNS_ENDPOINT = tpnsProxy.endpoint;
    resetRuntimeForTests();
  });
  afterAll(async () => {
    await stack.close();
    await Promise.all([sqsProxy.close(), tpnsProxy.close()]);
  });

  it('ends with exactly the model bindings; only invalid tokens are dead-lettered', { timeout: TIMEOUT_MS }, async () => {
    const { tpns, sqs, client } = stack;
    expect(mix.model.largestAccount()).toBeLessThan(100); // eviction is not modelled
    let redelivered = 0;
    // Lambda ends an invocation at its timeout, before the visibility timeout lets SQS hand the
    // message to another; in one process nothing ends it, so a stalled machine could deliver a
    // message twice at once. Counted, to tell such a harness problem from a product one.
    let overlappingDeliveries = 0;
    const inProgress = new Set<string>();
    const worker = stack.startWorker({
      visibilityTimeoutSeconds: VISIBILITY_S,
      timeoutSeconds: WORKER_TIMEOUT_S,
      wrap: (real) => async (event: SQSEvent, context) => {
        const ids = event.Records.map((record) => record.messageId);
        overlappingDeliveries += ids.filter((id) => inProgress.has(id)).length;
        redelivered += event.Records.filter((record) => Number(record.attributes.ApproximateReceiveCount) > 1).length;
        ids.forEach((id) => inProgress.add(id));
        try {
          return await real(event, context);
        } finally {
          ids.forEach((id) => inProgress.delete(id));
        }
      },
    });
    // Background faults all along, and every few seconds a one-second storm of one kind.
    let stormCount = 0;
    const background = () => {
      tpns.clearFaults();
      for (const [kind, rate] of Object.entries(BACKGROUND_FAULTS)) {
        tpns.injectFault({ kind: kind as FaultKind, rate, seed: SEED + stormCount * 7 + kind.length, latencyMs: SLOW_ANSWER_MS, retryAfterSeconds: 1 });
      }
    };
    background();
    const stormTimer = setInterval(() => {
      const kind = STORMS[stormCount++ % STORMS.length]!;
      tpns.injectFault({ kind, rate: STORM_RATE, seed: SEED + stormCount, latencyMs: SLOW_ANSWER_MS, retryAfterSeconds: 1 });
      setTimeout(background, STORM_FOR_MS);
    }, STORM_EVERY_MS);
    let refusalWindows = 0;
    const setMessageLimit = (size: string) =>
      client.send(new SetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, Attributes: { MaximumMessageSize: size } }));
    const refusalTimer = setInterval(() => {
      refusalWindows += 1;
      void setMessageLimit(SMALL_MESSAGE_LIMIT).then(() => setTimeout(() => void setMessageLimit(NORMAL_MESSAGE_LIMIT), SQS_REFUSAL_FOR_MS));
    }, SQS_REFUSAL_EVERY_MS);

    const stats = newDriveStats();
    const started = Date.now();
    try {
      await runPaced({
        items: mix.operations,
        keysOf,
        run: (operation) => drive(operation, stats),
        // Work still pending: queued (or in the worker's hands), or a TPNS call not yet applied
        // (one still arriving could be about anything).
        pendingKeys: async () => {
          const queued = (await queuedBodies(sqs)).flatMap(keysOfMessage);
          const calls = tpnsProxy.inFlight().flatMap((body) => keysOfTpnsRequest(body.toString('utf8')));
          return new Set([...queued, ...calls, ...(tpnsProxy.receiving() > 0 ? [ANY_KEY] : [])]);
        },
        concurrency: CONCURRENCY,
      });
    } finally {
      clearInterval(stormTimer);
      clearInterval(refusalTimer);
    }
    await setMessageLimit(NORMAL_MESSAGE_LIMIT);
    tpns.clearFaults();
    await worker.drained();
    const seconds = (Date.now() - started) / 1000;

    const letters = (await stack.drainDeadLetters()) as { type: string; reason: { code: string }; work?: { items?: { token: string }[]; tokens?: string[] } }[];
    const deadTokens = letters.flatMap((letter) => [...(letter.work?.items ?? []).map((item) => item.token), ...(letter.work?.tokens ?? [])]);
    const diff = (['android', 'ios'] as const).flatMap((platform) =>
      mismatches(
        normalise(mix.model.state[platform]),
        normalise(tpns.state(platform).tokens.map(({ token, accounts }) => [token, accounts] as const)),
      ).map((entry) => ({ platform, ...entry })),
    );
    const points = emfPoints(stack.output.json());
    const counters = tpns.counters();
    const kinds = Object.entries(
      mix.operations.reduce<Record<string, number>>((count, op) => ({ ...count, [op.kind]: (count[op.kind] ?? 0) + 1 }), {}),
    );
    const figures = {
      operations: OPERATIONS,
      byKind: Object.fromEntries(kinds),
      seed: SEED,
      seconds: Math.round(seconds),
      handlerInvocations: stats.invocations,
      callerRetries: stats.callerRetries,
      answers: stats.statuses,
      tpnsCalls: counters.requests,
      faultsInjected: counters.byFault,
      sqsRefusalWindows: refusalWindows,
      sqsEntriesRefused,
      tpnsClientRetries: metricSum(points, 'TpnsRetries'),
      itemsQueued: metricSum(points, 'ItemsQueued'),
      workerMessagesRetried: metricSum(points, 'WorkMessagesRetried'),
      messagesRedelivered: redelivered,
      overlappingDeliveries,
      deadLettered: deadTokens.length,
      mismatches: diff.length,
      ...(diff.length > 0 ? { firstMismatches: diff.slice(0, 5), historyOfFirst: historyOf(tpns.requests(), diff[0]!.token) } : {}),
    };
    console.log(`SOAK FIGURES ${JSON.stringify(figures, null, 2)}`);

    expect(stats.unexpected).toEqual([]);
    expect(overlappingDeliveries, 'a message was delivered again while still being processed: raise VISIBILITY_S').toBe(0);
    expect(diff.slice(0, 10)).toEqual([]);
    expect(letters.every((letter) => letter.type === 'dead-letter' && letter.reason.code === '1008006')).toBe(true);
    expect(deadTokens.filter((token) => !mix.invalidTokens.has(token))).toEqual([]);
    expect([...mix.mustDeadLetter].filter((token) => !deadTokens.includes(token))).toEqual([]);
    // The faults really happened, and work really went through the queue.
    for (const kind of ['http500', 'internal', 'rate-limit', 'drop', 'latency']) expect(counters.byFault[kind] ?? 0).toBeGreaterThan(0);
    expect(figures.itemsQueued).toBeGreaterThan(0);
    expect(figures.sqsEntriesRefused).toBeGreaterThan(0);
    expect(figures.tpnsClientRetries).toBeGreaterThan(0);
  });
});
