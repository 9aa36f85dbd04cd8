/**
 * SQS faults on the wire: a small HTTP proxy in front of fauxqs (AWS JSON protocol, the
 * operation in `X-Amz-Target`). fauxqs cannot be stopped and restarted under a running stack, so
 * failures are injected here instead:
 * - `callFailureRate`: a SendMessageBatch / DeleteMessageBatch answered HTTP 500 without reaching
 *   fauxqs (the SDK retries it itself);
 * - `entryFailureRate`: single entries of a SendMessageBatch / DeleteMessageBatch refused
 *   (`Failed`, as SQS does under load): they are not passed on; the caller must retry exactly
 *   those (a refused delete makes the message come back: a duplicate delivery);
 * - `outage()`: every SendMessageBatch answered 500 for a while (the queue unreachable).
 * Everything else passes through unchanged. Decisions come from a seeded PRNG.
 */
import { createServer, request as httpRequest, Agent } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../../../local/seeded-random.js';

export interface SqsFaults {
  callFailureRate?: number;
  entryFailureRate?: number;
  seed?: number;
}

export interface SqsFaultCounters {
  /** Requests by operation (`SendMessageBatch`...). */
  requests: Record<string, number>;
  callsFailed: number;
  entriesRefused: number;
}

export interface SqsFaultProxy {
  endpoint: string;
  setFaults(faults: SqsFaults): void;
  /** Fails every SendMessageBatch for `ms`. */
  outage(ms: number): void;
  clear(): void;
  counters(): SqsFaultCounters;
  close(): Promise<void>;
}

const FAULTED = new Set(['SendMessageBatch', 'DeleteMessageBatch']);
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);
const passOn = (headers: IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).flatMap(([name, value]) => (typeof value === 'string' && !HOP.has(name) ? [[name, value]] : [])));

interface Entry {
  Id: string;
}

export async function startSqsFaultProxy(target: string): Promise<SqsFaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  let faults: SqsFaults = {};
  let random = seededRandom(1);
  let outageUntil = 0;
  const counters: SqsFaultCounters = { requests: {}, callsFailed: 0, entriesRefused: 0 };

  const forward = (method: string, path: string, headers: Record<string, string>, body: Buffer) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const outgoing = httpRequest(
        { hostname: upstream.hostname, port: upstream.port, method, path, agent, headers: { ...headers, 'content-length': String(body.length) } },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
          answer.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const target = request.headers['x-amz-target'];
        const operation = typeof target === 'string' ? target.replace(/^AmazonSQS\./, '') : 'unknown';
        counters.requests[operation] = (counters.requests[operation] ?? 0) + 1;
        const headers = passOn(request.headers);
        const reply = (status: number, answerHeaders: Record<string, string>, answer: Buffer) => {
          response.writeHead(status, { ...answerHeaders, 'content-length': String(answer.length) });
          response.end(answer);
        };
        const json = (status: number, value: unknown) => reply(status, { 'content-type': 'application/x-amz-json-1.0' }, Buffer.from(JSON.stringify(value)));
        const failCall = () => {
          counters.callsFailed += 1;
          json(500, { __type: 'com.amazonaws.sqs#InternalError', message: 'injected by the SQS fault proxy' });
        };
        try {
          if (FAULTED.has(operation)) {
            if (operation === 'SendMessageBatch' && Date.now() < outageUntil) return failCall();
            if (faults.callFailureRate && random() < faults.callFailureRate) return failCall();
            if (faults.entryFailureRate) {
              const parsed = JSON.parse(body.toString('utf8')) as { Entries?: Entry[] } & Record<string, unknown>;
              const entries = parsed.Entries ?? [];
              const refused = entries.filter(() => random() < (faults.entryFailureRate ?? 0));
              if (refused.length > 0) {
                counters.entriesRefused += refused.length;
                const kept = entries.filter((entry) => !refused.includes(entry));
                const failed = refused.map((entry) => ({ Id: entry.Id, SenderFault: false, Code: 'InternalError', Message: 'injected by the SQS fault proxy' }));
                if (kept.length === 0) return json(200, { Successful: [], Failed: failed });
                const answer = await forward(request.method ?? 'POST', request.url ?? '/', headers, Buffer.from(JSON.stringify({ ...parsed, Entries: kept })));
                if (answer.status !== 200) return reply(answer.status, passOn(answer.headers), answer.body);
                const merged = JSON.parse(answer.body.toString('utf8')) as { Successful?: unknown[]; Failed?: unknown[] };
                return json(200, { ...merged, Successful: merged.Successful ?? [], Failed: [...(merged.Failed ?? []), ...failed] });
              }
            }
          }
          const answer = await forward(request.method ?? 'POST', request.url ?? '/', headers, body);
          reply(answer.status, passOn(answer.headers), answer.body);
        } catch {
          response.destroy();
        }
      })();
    });
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    setFaults(next) {
      faults = next;
      random = seededRandom(next.seed ?? 1);
    },
    outage(ms) {
      outageUntil = Date.now() + ms;
    },
    clear() {
      faults = {};
      outageUntil = 0;
    },
    counters: () => structuredClone(counters),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
