/**
 * The adversarial tests' world and their measurements: the reliability stack with the functions
 * reaching SQS through the fault proxy, TPNS calls timing out before slowed answers (so TPNS
 * applies calls the client gave up on), and, after a run, G1, G2, the erasure receipts and the
 * ledger's plaintext, measured against the model and printed one line each.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { resetRuntimeForTests } from '../../../lib/config/runtime.js';
import { localDynamoClient } from '../../../local/dynamodb/local-dynamo.js';
import { Model, PLATFORMS } from './model.js';
import type { AccountKey, Device, Figures } from './model.js';
import { QUIET_ENV } from './quiet.js';
import { startSqsFaultProxy } from './sqs-fault-proxy.js';
import type { SqsFaultProxy } from './sqs-fault-proxy.js';
import { startReliabilityStack } from './stack.js';
import type { ReliabilityStack } from './stack.js';
import { erasureOf } from './world.js';
import type { FaultPlan, World } from './world.js';
import { figureText } from '../../support/output.js';

/** The functions' TPNS request timeout, and the injected latency above it. */
export const TPNS_TIMEOUT_MS = 400;
export const SLOW_ANSWER_MS = 600;

/**
 * The soak's faults, at rates that let most operations through: TPNS HTTP 500, 1008004, 1008028,
 * dropped connections and answers slower than the client's timeout (TPNS applies them anyway),
 * each task applied after its own 0-300 ms (reordering); DynamoDB throttling and 500s (per
 * request, before the SDK's own retries) and batches served in part (unprocessed keys); SQS SendMessageBatch/DeleteMessageBatch calls failed
 * and single entries refused.
 */
export const MIXED_FAULTS: FaultPlan = {
  tpns: { http500: 0.02, internal: 0.02, 'rate-limit': 0.015, drop: 0.01, latency: 0.02 },
  latencyMs: SLOW_ANSWER_MS,
  applyWindow: { minMs: 0, maxMs: 300 },
  dynamo: { throttle: 0.03, internal: 0.02, unprocessed: 0.05 },
  sqs: { callFailureRate: 0.03, entryFailureRate: 0.05 },
};

export const REORDERING_ONLY: FaultPlan = {
  tpns: {},
  latencyMs: 0,
  applyWindow: { minMs: 0, maxMs: 300 },
  dynamo: { throttle: 0, internal: 0, unprocessed: 0 },
  sqs: { callFailureRate: 0, entryFailureRate: 0 },
};

export interface AdversarialStack {
  stack: ReliabilityStack;
  sqsProxy: SqsFaultProxy;
  /** The binding queue through the fault proxy: for the worker's event source (refused deletes are duplicate deliveries). */
  viaProxy: { endpoint: string; queueUrl: string };
  close(): Promise<void>;
}

export async function startAdversarialStack(env: Record<string, string> = {}): Promise<AdversarialStack> {
  const stack = await startReliabilityStack({
    capture: false,
    // Every request of a long run stays in the log: G2 reads all of them.
    emulator: { maxLogEntries: 5_000_000 },
    env: { ...QUIET_ENV, TPNS_TIMEOUT_MS: String(TPNS_TIMEOUT_MS), ...env },
  });
  const sqsProxy = await startSqsFaultProxy(stack.sqs.endpoint);
  // The functions (handlers and the worker's follow-ups) reach SQS through the proxy. The SDK
  // sends to the queue URL's host, so the URLs move to the proxy too (fauxqs finds a queue by path).
  const viaProxy = (url: string) => new URL(new URL(url).pathname, sqsProxy.endpoint).href;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sqsProxy.endpoint,
    BINDING_QUEUE_URL: viaProxy(stack.sqs.queueUrl),
    BINDING_DLQ_URL: viaProxy(stack.sqs.dlqUrl),
  });
  resetRuntimeForTests();
  return {
    stack,
    sqsProxy,
    viaProxy: { endpoint: sqsProxy.endpoint, queueUrl: viaProxy(stack.sqs.queueUrl) },
    async close() {
      await stack.close();
      await sqsProxy.close();
    },
  };
}

export interface Measured extends Figures {
  /** Deleted accounts whose receipt is not `verified` (with the state found). */
  unverifiedErasures: { account: string; status: number; state?: unknown }[];
  /** Erased accounts (not signed in again) found in plaintext in DynamoDB items (the items, cut short). */
  plaintext: { account: string; items: string[] }[];
  tokensChecked: number;
  deadLetters: unknown[];
}

/** Measures a quiet world against the model of `world`'s history (`scope`: only these tokens and accounts). */
export async function measure(stack: ReliabilityStack, world: World, scope?: { devices: readonly Device[]; accounts: readonly AccountKey[] }): Promise<Measured> {
  const model = new Model(world.records);
  const scopeSets = scope
    ? {
        tokens: new Set(scope.devices.map((device) => `${device.platform}\u0000${device.token}`)),
        accounts: new Set(scope.accounts.map((account) => `${account.accountType}\u0000${account.account}`)),
      }
    : undefined;
  const tpnsTokens = PLATFORMS.flatMap((platform) => stack.tpns.state(platform).tokens.map(({ token }) => ({ platform, token })));
  const figures = model.figures((platform, token) => stack.tpns.accountsOf(platform, token), tpnsTokens, stack.tpns.requests(), scopeSets);

  const unverifiedErasures: Measured['unverifiedErasures'] = [];
  for (const account of model.deleted()) {
    const receipt = await erasureOf(account);
    if (receipt.statusCode !== 200 || receipt.body.state !== 'verified') unverifiedErasures.push({ account: account.account, status: receipt.statusCode, state: receipt.body.state ?? receipt.body });
  }

  const client = localDynamoClient(stack.dynamo.endpoint);
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: stack.dynamo.tableName, ...(start ? { ExclusiveStartKey: start as never } : {}) }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  client.destroy();
  const texts = items.map((item) => JSON.stringify(item));
  const plaintext = model.erased().flatMap(({ account }) => {
    const where = texts.filter((text) => text.includes(`"${account}"`));
    return where.length > 0 ? [{ account, items: where.map((text) => text.slice(0, 400)) }] : [];
  });

  return {
    ...figures,
    unverifiedErasures,
    plaintext,
    tokensChecked: model.tokens.size,
    deadLetters: await stack.drainDeadLetters(),
  };
}

/** The figure line (and what else is worth a look when G1 or G2 is not 0): one per scenario, so `npm test` stays short. */
export function report(name: string, measured: Measured): void {
  const bindings = measured.violations.filter((violation) => violation.kind === 'superseded' || violation.kind === 'erased').length;
  const extra = { tokensChecked: measured.tokensChecked, writesChecked: measured.writes, bindingsInvolved: bindings, staleRemovals: measured.staleRemovals, unacceptedBinds: measured.unacceptedBinds, maybeApplied: measured.maybeApplied };
  console.log(`${name}: G1 ${measured.g1}, G2 ${measured.g2}; ${figureText(extra)}`);
}

/** Explains non-zero figures: the mismatches and violations, with TPNS's history of the first token involved. */
export function explain(stack: ReliabilityStack, world: World, measured: Measured): string {
  const token = measured.mismatches[0]?.token ?? measured.violations[0]?.token;
  const history = token
    ? stack.tpns
        .requests()
        .filter((entry) => JSON.stringify(entry.requested ?? entry.body ?? '').includes(token))
        .map(({ seq, receivedAt, operatorType, path, fault, httpStatus, requested }) => ({ seq, receivedAt, op: `${path.split('/').pop()}:${operatorType}`, fault, httpStatus, requested: JSON.stringify(requested).slice(0, 160) }))
    : [];
  const operations = token
    ? world.records
        .filter((record) => JSON.stringify(record.spec).includes(token))
        .map(({ id, spec, actor, startedAt, answeredAt, status, attempts }) => ({ id, kind: spec.kind, actor, startedAt, answeredAt, status, attempts: attempts.join(',') }))
    : [];
  return JSON.stringify(
    {
      mismatches: measured.mismatches.slice(0, 5),
      violations: measured.violations.slice(0, 5),
      unverifiedErasures: measured.unverifiedErasures.slice(0, 5),
      plaintext: measured.plaintext,
      deadLetters: measured.deadLetters.slice(0, 3),
      token,
      operations,
      history,
    },
    null,
    1,
  );
}
