/**
 * A pass-through HTTP proxy that lets a test watch traffic it must not change: every request is
 * forwarded unchanged and answered with the upstream's answer. It knows which requests are
 * still in flight upstream, including those whose client already gave up (a timeout): the
 * upstream still finishes them, as a real server would.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ObservedExchange {
  headers: IncomingHttpHeaders;
  body: Buffer;
  status: number;
  answer: Buffer;
}

export interface ObservingProxy {
  /** Give this to clients instead of the upstream's URL. */
  endpoint: string;
  /** Bodies of requests the upstream has not answered yet. */
  inFlight(): Buffer[];
  /** Requests whose body is still arriving (what they will change is not known yet). */
  receiving(): number;
  close(): Promise<void>;
}

const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

export async function startObservingProxy(target: string, onExchange: (exchange: ObservedExchange) => void = () => undefined): Promise<ObservingProxy> {
  const pending = new Set<Buffer>();
  let receiving = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    receiving += 1;
    let received = false;
    const done = () => {
      if (!received) receiving -= 1;
      received = true;
    };
    request.on('close', done);
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      done();
      const body = Buffer.concat(chunks);
      pending.add(body);
      const headers = Object.fromEntries(
        Object.entries(request.headers).flatMap(([name, value]) => (typeof value === 'string' && !HOP_HEADERS.has(name) ? [[name, value]] : [])),
      );
      // No abort signal: a client that gives up does not stop the upstream from finishing.
      fetch(`${target}${request.url ?? '/'}`, { method: request.method ?? 'POST', headers, ...(body.length > 0 ? { body } : {}) })
        .then(async (upstream) => {
          const answer = Buffer.from(await upstream.arrayBuffer());
          pending.delete(body);
          onExchange({ headers: request.headers, body, status: upstream.status, answer });
          const answerHeaders = [...upstream.headers].filter(([name]) => !HOP_HEADERS.has(name) && name !== 'content-encoding');
          response.writeHead(upstream.status, Object.fromEntries(answerHeaders));
          response.end(answer);
        })
        .catch(() => {
          // The upstream dropped the connection: so does the proxy.
          pending.delete(body);
          response.destroy();
        });
    });
  });
  // Never the first to close an idle kept-alive connection (clients keep theirs up to 30 s): a
  // proxy that did would make clients retry requests the upstream may already have.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    inFlight: () => [...pending],
    receiving: () => receiving,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
