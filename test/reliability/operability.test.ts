/**
 * Operability: every log line is structured JSON; the correlation id of the trigger (API request
 * id, EventBridge event id) is carried through the queue into the worker's log lines; and the
 * metrics an operator alarms on are emitted in CloudWatch Embedded Metric Format.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as login } from '../../functions/login.js';
import { handler as logout } from '../../functions/logout.js';
import { httpEvent, invokeHttp, lambdaContext } from '../integration/functions/harness.js';
import { ADMIN_SCOPE, accountEvent } from './support/drive.js';
import { emfPoints, metricSum } from './support/capture.js';
import { startReliabilityStack } from './support/stack.js';
import type { ReliabilityStack } from './support/stack.js';

const DEAD = 'operability-dead-token';

let stack: ReliabilityStack;
let lines: Record<string, unknown>[];
let requestId: string;
const eventId = 'evt-operability-0001';

beforeAll(async () => {
  stack = await startReliabilityStack({ invalidTokens: [DEAD], env: { POWERTOOLS_LOG_LEVEL: 'INFO', WORKER_RETRY_BUDGET_MS: '300', TPNS_TIMEOUT_MS: '500' } });
  const { tpns } = stack;
  // One request, queued because TPNS is failing; one event, queued the same way.
  tpns.injectFault({ kind: 'internal' });
  const event = httpEvent('PUT /v1/me/devices/{token}', { account: 'ops-user-01', pathParameters: { token: 'operability-token-1' }, body: { platform: 'ios' } });
  requestId = (event.requestContext as { requestId: string }).requestId;
  expect((await invokeHttp(login, event)).statusCode).toBe(202);
  await logout(accountEvent('account.logout', { account: 'ops-user-02', token: 'operability-token-2', platform: 'android', eventId }), lambdaContext());
  // Still failing when the worker first tries: it hands the messages back (a retry), then TPNS recovers.
  const worker = stack.startWorker({ concurrency: 1, visibilityTimeoutSeconds: 1 });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  tpns.clearFaults();
  // A bulk with an invalid token: queued, applied, the bad item dead-lettered.
  const bulk = await invokeHttp(
    login,
    httpEvent('POST /v1/admin/bindings', {
      account: 'ops',
      scope: ADMIN_SCOPE,
      body: { items: Array.from({ length: 24 }, (_, i) => ({ token: i === 0 ? DEAD : `operability-bulk-${i}`, account: `bulk-user-${i}`, platform: 'android' })) },
    }),
  );
  expect(bulk.statusCode).toBe(202);
  await worker.drained();
  lines = stack.output.json();
}, 60_000);
afterAll(() => stack.close());

describe('structured logs with a correlation id from trigger to worker', () => {
  it('writes only JSON lines', () => {
    const all = stack.output.lines();
    expect(all.length).toBeGreaterThan(10);
    expect(all.filter((line) => !line.trim().startsWith('{'))).toEqual([]);
  });

  it("carries the API request id into the worker's lines", () => {
    const mine = lines.filter((line) => line.correlation_id === requestId);
    expect(mine.map((line) => line.message)).toEqual(expect.arrayContaining(['Request answered', 'Work message will be retried', 'Work message applied']));
    const applied = mine.find((line) => line.message === 'Work message applied');
    expect(applied).toMatchObject({ function_name: 'bindWorker', kind: 'bind', platform: 'ios', group: expect.stringMatching(/^t:tok_[0-9a-f]{12}$/) });
  });

  it("carries the EventBridge event's id into the worker's lines", () => {
    const worker = lines.filter((line) => line.correlation_id === eventId && line.function_name === 'bindWorker');
    expect(worker.map((line) => line.kind)).toEqual(expect.arrayContaining(['unbind-tokens', 'remove-accounts']));
  });
});

describe('metrics in CloudWatch Embedded Metric Format', () => {
  it('emits what the alarms and dashboards need', () => {
    const points = emfPoints(lines);
    const namespaces = new Set(lines.flatMap((line) => ((line._aws as { CloudWatchMetrics?: { Namespace: string }[] } | undefined)?.CloudWatchMetrics ?? []).map((d) => d.Namespace)));
    expect([...namespaces]).toEqual(['TpnsAccountSync']);
    expect(metricSum(points, 'ItemsQueued')).toBe(1 + 1 + 24); // the sign-in, the sign-out's op 4 leftover, the bulk
    expect(metricSum(points, 'TpnsLatency')).toBeGreaterThan(0);
    expect(metricSum(points, 'TpnsRetries', { operation: 'bind', code: '1008004' })).toBeGreaterThan(0);
    expect(metricSum(points, 'TpnsAnswers', { operation: 'bind', code: '1008026' })).toBeGreaterThan(0); // the bulk chunk with the invalid token
    expect(metricSum(points, 'WorkMessagesRetried')).toBeGreaterThan(0);
    expect(metricSum(points, 'WorkItemsApplied', { kind: 'bind' })).toBe(1 + 23);
    expect(metricSum(points, 'WorkItemsFailed', { kind: 'bind', code: '1008006' })).toBe(1);
    expect(metricSum(points, 'WorkDeadLettered', { reason: 'refused-item' })).toBe(1);
  });
});
