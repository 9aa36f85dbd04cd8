/**
 * DynamoDB faults on the wire: an HTTP proxy in front of dynalite that answers chosen requests
 * the way DynamoDB does when it sheds load (HTTP 400 ProvisionedThroughputExceededException or
 * ThrottlingException, HTTP 500 InternalServerError), delays them, or serves a batch in part
 * (unprocessed keys), and counts requests per operation. A rule fires for the next `count`
 * matching requests and/or a `probability` of them, drawn from a seeded PRNG so a run is
 * repeatable, optionally `after` letting some through; `operation` narrows it to one X-Amz-Target.
 *
 * Hand-written because no npm package injects DynamoDB faults in front of dynalite:
 * aws-sdk-client-mock replaces a client inside one process (the handlers build their own from
 * AWS_ENDPOINT_URL_DYNAMODB), generic proxies (toxiproxy, mockttp) know nothing of DynamoDB's
 * error bodies, and dynalite has no fault hooks. DynamoDB's JSON protocol makes it small: the
 * operation is a header, an error is a status and a `__type`.
 *
 * Why hand-written: dynalite has no fault injection (docs/architecture.md, "Why local/ is hand-written").
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../seeded-random.js';

const TARGET_PREFIX = 'DynamoDB_20120810.';
const ERROR_TYPE_PREFIX = 'com.amazonaws.dynamodb.v20120810#';

/** The operations dynalite implements (no transactions, no TTL or backup APIs). */
export const DYNAMO_OPERATIONS = [
  'BatchGetItem', 'BatchWriteItem', 'CreateTable', 'DeleteItem', 'DeleteTable', 'DescribeTable', 'DescribeTimeToLive',
  'GetItem', 'ListTables', 'PutItem', 'Query', 'Scan', 'TagResource', 'UntagResource', 'ListTagsOfResource', 'UpdateItem', 'UpdateTable',
] as const;
export type DynamoOperation = (typeof DYNAMO_OPERATIONS)[number];

/**
 * The error kinds are the names the SDK gives the errors (`error.name`); `latency` delays only;
 * `unprocessed` (BatchGetItem, BatchWriteItem) serves the first half of the keys, rounded up, and
 * returns the rest as UnprocessedKeys / UnprocessedItems, as DynamoDB does when it throttles part
 * of a batch (a single key is served).
 */
export const DYNAMO_FAULT_KINDS = ['ProvisionedThroughputExceededException', 'ThrottlingException', 'InternalServerError', 'latency', 'unprocessed'] as const;
export type DynamoFaultKind = (typeof DYNAMO_FAULT_KINDS)[number];
type DynamoErrorKind = Exclude<DynamoFaultKind, 'latency' | 'unprocessed'>;
/** The operations that answer with unprocessed keys. */
const BATCH_OPERATIONS: readonly string[] = ['BatchGetItem', 'BatchWriteItem'];

/** Status and message as DynamoDB answers them. */
const ERRORS: Record<DynamoErrorKind, { status: number; message: string }> = {
  ProvisionedThroughputExceededException: {
    status: 400,
    message: 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  },
  ThrottlingException: { status: 400, message: 'Rate of requests exceeds the allowed throughput.' },
  InternalServerError: { status: 500, message: 'Internal server error' },
};

const DEFAULT_LATENCY_MS = 1_000;
/** Requests without an X-Amz-Target header are counted under this name. */
export const UNKNOWN_OPERATION = 'unknown';

export interface DynamoFaultRule {
  kind: DynamoFaultKind;
  /** Fraction (0-1] of matching requests affected; with neither probability nor count, every one. */
  probability?: number;
  /** Affect only the next N matching requests (those the probability picks), then the rule is spent. */
  count?: number;
  /** Let the first N matching requests through untouched (e.g. `1`: the second read, not the first). */
  after?: number;
  /** Only this operation: `UpdateItem`, or the X-Amz-Target itself (`DynamoDB_20120810.UpdateItem`). */
  operation?: DynamoOperation | `${typeof TARGET_PREFIX}${DynamoOperation}`;
  /** `latency`: how long (default 1 000 ms). */
  latencyMs?: number;
  /**
   * `latency`: `request` (default) holds the request before dynalite serves it; `answer` lets
   * dynalite serve it at once and holds its answer (the client then acts on an older read).
   */
  latencyAt?: 'request' | 'answer';
  /** The error's `message` (default: DynamoDB's own text for that error). */
  message?: string;
  /** Seed of this rule's PRNG (default: the proxy's seed). */
  seed?: number;
}

export interface ActiveDynamoFault extends DynamoFaultRule {
  id: number;
  /** Requests this rule has affected so far. */
  fired: number;
  /** Matching requests it let through because of `after`. */
  passed: number;
}

export class InvalidDynamoFaultRuleError extends RangeError {
  override readonly name = 'InvalidDynamoFaultRuleError';
}

interface Entry {
  fault: ActiveDynamoFault;
  random: () => number;
}

/** `DynamoDB_20120810.UpdateItem` -> `UpdateItem`; a request without the header -> `unknown`. */
const operationOf = (target: string | string[] | undefined): string =>
  typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : UNKNOWN_OPERATION;
const withoutPrefix = (operation: string): string => (operation.startsWith(TARGET_PREFIX) ? operation.slice(TARGET_PREFIX.length) : operation);

/** The rule's problem, if any (rules may come from untyped code: a test's JSON, a REPL). */
function ruleProblem(rule: DynamoFaultRule): string | undefined {
  if (!(DYNAMO_FAULT_KINDS as readonly string[]).includes(rule.kind)) return `kind must be one of ${DYNAMO_FAULT_KINDS.join(', ')}`;
  if (rule.probability !== undefined && !(rule.probability > 0 && rule.probability <= 1)) return 'probability must be in (0, 1]';
  if (rule.count !== undefined && !(Number.isInteger(rule.count) && rule.count > 0)) return 'count must be a positive integer';
  if (rule.after !== undefined && !(Number.isInteger(rule.after) && rule.after >= 0)) return 'after must be a non-negative integer';
  if (rule.latencyMs !== undefined && !(rule.latencyMs >= 0)) return 'latencyMs must be >= 0';
  if (rule.latencyAt !== undefined && rule.latencyAt !== 'request' && rule.latencyAt !== 'answer') return 'latencyAt must be request or answer';
  if (rule.operation !== undefined && !(DYNAMO_OPERATIONS as readonly string[]).includes(withoutPrefix(rule.operation))) {
    return `operation must be one of ${DYNAMO_OPERATIONS.join(', ')}`;
  }
  if (rule.kind === 'unprocessed' && !(rule.operation !== undefined && BATCH_OPERATIONS.includes(withoutPrefix(rule.operation)))) {
    return `unprocessed needs operation ${BATCH_OPERATIONS.join(' or ')}`;
  }
  return undefined;
}

/** What happens to one request: delays, then an error, a partly served batch, or the request passed on. */
interface Outcome {
  latencyMs: number;
  answerLatencyMs: number;
  error?: { kind: DynamoErrorKind; message: string };
  unprocessed?: true;
}

/** The rules and the counters; the proxy asks it about each request. */
export class DynamoFaults {
  #entries: Entry[] = [];
  #nextId = 1;
  #requests: Record<string, number> = {};
  #injected: Record<string, number> = {};
  #inFlight = 0;
  #peakInFlight = 0;
  #inFlightOf: Record<string, number> = {};
  #peakOf: Record<string, number> = {};

  constructor(private readonly defaultSeed = 1) {}

  add(rule: DynamoFaultRule): ActiveDynamoFault {
    const problem = ruleProblem(rule);
    if (problem) throw new InvalidDynamoFaultRuleError(`DynamoDB fault rule: ${problem}`);
    const operation = rule.operation === undefined ? {} : { operation: withoutPrefix(rule.operation) as DynamoOperation };
    const fault: ActiveDynamoFault = { ...rule, ...operation, id: this.#nextId++, fired: 0, passed: 0 };
    this.#entries.push({ fault, random: seededRandom(rule.seed ?? this.defaultSeed) });
    return { ...fault };
  }

  /** False when no such rule is active (never added, spent or already removed). */
  remove(id: number): boolean {
    const before = this.#entries.length;
    this.#entries = this.#entries.filter(({ fault }) => fault.id !== id);
    return this.#entries.length < before;
  }

  clear(): void {
    this.#entries = [];
  }

  /** Active rules (spent ones are gone). */
  list(): ActiveDynamoFault[] {
    return this.#entries.map(({ fault }) => ({ ...fault }));
  }

  /** Requests that reached the proxy, by operation (`UpdateItem`), faulted ones included. */
  requests(): Record<string, number> {
    return { ...this.#requests };
  }

  /** Errors injected, by operation (latency alone is not an error). */
  injected(): Record<string, number> {
    return { ...this.#injected };
  }

  /** The most requests (of `operation`, if given) the proxy held at once (arrived, not yet answered) since the counters were reset. */
  peakInFlight(operation?: DynamoOperation): number {
    return operation === undefined ? this.#peakInFlight : (this.#peakOf[operation] ?? 0);
  }

  /** The proxy's bookkeeping of a request it holds (from arrival to its answer's end). */
  held(operation: string): () => void {
    this.#inFlight += 1;
    this.#peakInFlight = Math.max(this.#peakInFlight, this.#inFlight);
    const ofOperation = (this.#inFlightOf[operation] ?? 0) + 1;
    this.#inFlightOf[operation] = ofOperation;
    this.#peakOf[operation] = Math.max(this.#peakOf[operation] ?? 0, ofOperation);
    return () => {
      this.#inFlight -= 1;
      this.#inFlightOf[operation] = (this.#inFlightOf[operation] ?? 1) - 1;
    };
  }

  resetCounters(): void {
    this.#requests = {};
    this.#injected = {};
    this.#peakInFlight = this.#inFlight;
    this.#peakOf = { ...this.#inFlightOf };
  }

  /**
   * Counts one request and picks what happens to it: at most one latency and one error, the
   * first matching rule of each sort winning. Every matching rule draws from its own PRNG, so a
   * seed's sequence of outcomes does not depend on the other rules.
   */
  take(operation: string): Outcome {
    this.#requests[operation] = (this.#requests[operation] ?? 0) + 1;
    let latencyMs = 0;
    let answerLatencyMs = 0;
    let error: { kind: DynamoErrorKind; message: string } | undefined;
    let unprocessed = false;
    for (const { fault, random } of this.#entries) {
      if (fault.operation !== undefined && fault.operation !== operation) continue;
      if (fault.count !== undefined && fault.fired >= fault.count) continue;
      if (fault.passed < (fault.after ?? 0)) {
        fault.passed += 1;
        continue;
      }
      if (fault.probability !== undefined && random() >= fault.probability) continue;
      if (fault.kind === 'latency' ? latencyMs + answerLatencyMs > 0 : error || unprocessed) continue;
      fault.fired += 1;
      if (fault.kind === 'latency' && fault.latencyAt === 'answer') answerLatencyMs = fault.latencyMs ?? DEFAULT_LATENCY_MS;
      else if (fault.kind === 'latency') latencyMs = fault.latencyMs ?? DEFAULT_LATENCY_MS;
      else if (fault.kind === 'unprocessed') unprocessed = true;
      else error = { kind: fault.kind, message: fault.message ?? ERRORS[fault.kind].message };
    }
    if (error || unprocessed) this.#injected[operation] = (this.#injected[operation] ?? 0) + 1;
    this.#entries = this.#entries.filter(({ fault }) => fault.count === undefined || fault.fired < fault.count);
    return { latencyMs, answerLatencyMs, ...(error ? { error } : {}), ...(unprocessed ? { unprocessed } : {}) };
  }
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: where clients send their requests. */
  endpoint: string;
  faults: DynamoFaults;
  close(): Promise<void>;
}

/** Hop-by-hop headers belong to one connection, not to the request being passed on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade']);
const endToEnd = (headers: IncomingHttpHeaders): IncomingHttpHeaders =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));

function answerError(request: IncomingMessage, response: ServerResponse, kind: DynamoErrorKind, message: string): void {
  const body = JSON.stringify({ __type: `${ERROR_TYPE_PREFIX}${kind}`, message });
  request.resume(); // the body is not needed, but must be read for the connection to be reused
  response.writeHead(ERRORS[kind].status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(body);
}

function answerUnreachable(response: ServerResponse, error: Error): void {
  if (response.headersSent) response.destroy(error);
  else response.writeHead(502, { 'content-type': 'text/plain' }).end(`DynamoDB fault proxy: dynalite unreachable (${error.message})`);
}

function forward(request: IncomingMessage, response: ServerResponse, target: URL, agent: Agent, answerLatencyMs = 0): void {
  const upstream = httpRequest(
    { hostname: target.hostname, port: target.port, method: request.method, path: request.url, headers: endToEnd(request.headers), agent },
    (answer) => {
      // Served already; a held answer waits unread (paused) until it is passed on.
      void (answerLatencyMs > 0 ? sleep(answerLatencyMs) : Promise.resolve()).then(() => {
        if (response.destroyed) return answer.resume();
        response.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        answer.pipe(response);
      });
    },
  );
  upstream.on('error', (error) => answerUnreachable(response, error));
  request.pipe(upstream);
}

const readBody = async (stream: AsyncIterable<Buffer | string>): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
};

type Batch = Record<string, { Keys: unknown[] } | unknown[]>;
type BatchEntry = Batch[string];
/** A table's keys (BatchGetItem: `{ Keys }`) or write requests (BatchWriteItem: a list). */
const listOf = (entry: BatchEntry): unknown[] => (Array.isArray(entry) ? entry : entry.Keys);
const withList = (entry: BatchEntry, list: unknown[]): BatchEntry => (Array.isArray(entry) ? list : { ...entry, Keys: list });

/** Each table's keys or write requests as [served, held back]: the first half, rounded up, is served. */
function splitBatch(items: Batch): [Batch, Batch] {
  const served: Batch = {};
  const held: Batch = {};
  for (const [table, entry] of Object.entries(items)) {
    const list = listOf(entry);
    const cut = Math.ceil(list.length / 2);
    served[table] = withList(entry, list.slice(0, cut));
    if (cut < list.length) held[table] = withList(entry, list.slice(cut));
  }
  return [served, held];
}

/** A batch served in part: dynalite gets the first half of each table's keys, the answer names the rest unprocessed. */
async function forwardPartly(request: IncomingMessage, response: ServerResponse, target: URL, agent: Agent, operation: string): Promise<void> {
  const input = JSON.parse(await readBody(request)) as { RequestItems: Batch };
  const [served, held] = splitBatch(input.RequestItems);
  const body = JSON.stringify({ ...input, RequestItems: served });
  const headers = { ...endToEnd(request.headers), 'content-length': String(Buffer.byteLength(body)) };
  const upstream = httpRequest({ hostname: target.hostname, port: target.port, method: request.method, path: request.url, headers, agent }, (answer) => {
    readBody(answer).then((text) => {
      if (response.destroyed) return;
      if (answer.statusCode !== 200) {
        response.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers)).end(text);
        return;
      }
      const unprocessed = operation === 'BatchGetItem' ? 'UnprocessedKeys' : 'UnprocessedItems';
      const out = JSON.stringify({ ...(JSON.parse(text) as object), [unprocessed]: held });
      // The SDK checks DynamoDB's CRC32 of the body when the header is there.
      const { 'x-amz-crc32': _crc, ...rest } = endToEnd(answer.headers);
      response.writeHead(200, { ...rest, 'content-length': Buffer.byteLength(out), 'x-amz-crc32': String(crc32(out)) }).end(out);
    }, (error: Error) => answerUnreachable(response, error));
  });
  upstream.on('error', (error) => answerUnreachable(response, error));
  upstream.end(body);
}

/** Listens on `host:port` and passes requests on to `target` (dynalite), faults permitting. */
export async function startFaultProxy(options: { target: string; host: string; port: number; seed?: number }): Promise<FaultProxy> {
  const target = new URL(options.target);
  const faults = new DynamoFaults(options.seed);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((request, response) => {
    const operation = operationOf(request.headers['x-amz-target']);
    response.once('close', faults.held(operation));
    const { latencyMs, answerLatencyMs, error, unprocessed } = faults.take(operation);
    const delay = latencyMs > 0 ? sleep(latencyMs) : Promise.resolve();
    void delay.then(() => {
      if (response.destroyed) return; // the client gave up (or the proxy closed) during the latency
      if (error) answerError(request, response, error.kind, error.message);
      else if (unprocessed) forwardPartly(request, response, target, agent, operation).catch((error: Error) => answerUnreachable(response, error));
      else forward(request, response, target, agent, answerLatencyMs);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${options.host}:${port}`,
    faults,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
