/**
 * Operability: every log line is structured JSON; the correlation id of the trigger (API request
 * id, EventBridge event id) is on the handler's lines and travels with the queued keys into the
 * worker (its lines and its dead letters); and the metrics an operator alarms on are emitted in
 * CloudWatch Embedded Metric Format.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as login } from '../../functions/login.js';
import { handler as logout } from '../../functions/logout.js';
import { httpEvent, invokeHttp, lambdaContext } from '../integration/functions/harness.js';
import { ADMIN_SCOPE, accountEvent } from './support/drive.js';
import { emfPoints, metricSum } from '../support/output.js';
import { startReliabilityStack } from './support/stack.js';
import type { ReliabilityStack } from './support/stack.js';

const DEAD = 'operability-dead-token';

let stack: ReliabilityStack;
let lines: Record<string, unknown>[];
let requestId: string;
let bulkRequestId: string;
let letters: { reason: { code: string }; key?: { token: string }; source: { correlationId?: string } }[];
const eventId = 'evt-operability-0001';

beforeAll(async () => {
  stack = await startReliabilityStack({ invalidTokens: [DEAD], env: { POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false', TPNS_TIMEOUT_MS: '500' } });
  const { tpns } = stack;
  // One request, queued because TPNS is failing; one event, queued the same way.
  tpns.injectFault({ kind: 'internal' });
  const event = httpEvent('PUT /v1/me/devices/{token}', { account: 'ops-user-01', pathParameters: { token: 'operability-token-1' }, body: { platform: 'ios' } });
  requestId = (event.requestContext as { requestId: string }).requestId;
  expect((await invokeHttp(login, event)).statusCode).toBe(202);
  await logout(accountEvent('account.logout', { account: 'ops-user-02', token: 'operability-token-2', platform: 'android', eventId }), lambdaContext());
  // Still failing when the worker first tries: it queues the keys again, then TPNS recovers.
  stack.startWorker({ concurrency: 1, visibilityTimeoutSeconds: 1 });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  tpns.clearFaults();
  // A bulk with an invalid token: queued, pushed, the bad key dead-lettered.
  const bulkEvent = httpEvent('POST /v1/admin/bindings', {
    account: 'ops',
    scope: ADMIN_SCOPE,
    body: { items: Array.from({ length: 24 }, (_, i) => ({ token: i === 0 ? DEAD : `operability-bulk-${i}`, account: `bulk-user-${i}`, platform: 'android' })) },
  });
  bulkRequestId = (bulkEvent.requestContext as { requestId: string }).requestId;
  expect((await invokeHttp(login, bulkEvent)).statusCode).toBe(202);
  await stack.quiesce();
  lines = stack.output.json();
  letters = (await stack.drainDeadLetters()) as typeof letters;
}, 60_000);
afterAll(() => stack.close());

describe('structured logs with a correlation id from trigger to worker', () => {
  it('writes only JSON lines', () => {
    const all = stack.output.lines();
    expect(all.length).toBeGreaterThan(10);
    const notJson = all.filter((line) => !line.trim().startsWith('{'));
    expect(notJson, JSON.stringify(notJson)).toEqual([]);
  });

  it("puts the API request id on the handler's lines", () => {
    expect(stack.output).toHaveLogged({ correlation_id: requestId, message: 'Request answered' });
  });

  it("carries the API request id and the EventBridge event id into the worker's lines", () => {
    const worker = (id: string) => lines.filter((line) => line.function_name === 'bindWorker' && line.correlation_id === id);
    expect(worker(requestId).length, `no bindWorker line carries ${requestId}`).toBeGreaterThan(0);
    expect(worker(eventId).length, `no bindWorker line carries ${eventId}`).toBeGreaterThan(0);
  });

  it('carries the request id into the dead letter of the key it queued', () => {
    expect(letters.map((letter) => [letter.reason.code, letter.key?.token, letter.source.correlationId])).toEqual([['1008006', DEAD, bulkRequestId]]);
  });
});

describe('metrics in CloudWatch Embedded Metric Format', () => {
  it('emits what the alarms and dashboards need', () => {
    const points = emfPoints(lines);
    const namespaces = new Set(lines.flatMap((line) => ((line._aws as { CloudWatchMetrics?: { Namespace: string }[] } | undefined)?.CloudWatchMetrics ?? []).map((d) => d.Namespace)));
    expect([...namespaces]).toEqual(['TpnsAccountSync']);
    expect(stack.output).toHaveEmittedMetric('ItemsQueued', { sum: 1 + 1 + 24 }); // the sign-in, the sign-out, the bulk
    expect(stack.output).toHaveEmittedMetric('TpnsLatency');
    // The direct attempt retried TPNS's 1008004 within its budget: every failed attempt is an answer by operation and code.
    expect(metricSum(points, 'TpnsAnswers', { operation: 'bind', code: '1008004' })).toBeGreaterThanOrEqual(2);
    expect(stack.output).toHaveEmittedMetric('TpnsAnswers', { dimensions: { operation: 'bind', code: '1008026' } }); // the bulk chunk with the invalid token
    // The worker's pushes: the sign-in, the sign-out and 23 bulk keys applied, the invalid one dead-lettered; all read back.
    expect(stack.output).toHaveEmittedMetric('KeysReconciled', { dimensions: { outcome: 'applied' }, sum: 1 + 1 + 23 });
    expect(metricSum(points, 'KeysReconciled', { outcome: 'verified' })).toBeGreaterThanOrEqual(1 + 1 + 23);
    expect(stack.output).toHaveEmittedMetric('KeysDeadLettered', { dimensions: { reason: 'key' }, sum: 1 });
    expect(stack.output).toHaveEmittedMetric('KeysDeadLettered', { dimensions: { reason: 'invalid-message' }, sum: 0 });
  });
});
