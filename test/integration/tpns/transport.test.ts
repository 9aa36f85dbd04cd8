/** lib/tpns/transport.ts against a real local HTTP server: keep-alive reuse and a reply cut mid-body. */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TpnsUnavailableError } from '../../../lib/tpns/errors.js';
import { postJson } from '../../../lib/tpns/transport.js';

let server: Server;
let url: string;
let connections = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.url === '/cut') {
        // Headers and half a body, then the connection dies.
        response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
        response.write('{"ret_code":');
        setImmediate(() => response.socket?.destroy());
        return;
      }
      response.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '3' });
      response.end('{"ret_code":1008028}');
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('postJson', () => {
  it('reuses one kept-alive connection for calls one after another, with status, JSON body and Retry-After', async () => {
    const before = connections;
    for (let call = 0; call < 3; call++) {
      const reply = await postJson({ url: `${url}/v3`, headers: {}, body: '{}', timeoutMs: 2_000 });
      expect(reply).toEqual({ status: 429, body: { ret_code: 1008028 }, retryAfterMs: 3_000 });
    }
    expect(connections - before).toBe(1);
  });

  it('a reply cut off mid-body is a retryable NETWORK error', async () => {
    const error = await postJson({ url: `${url}/cut`, headers: {}, body: '{}', timeoutMs: 2_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TpnsUnavailableError);
    expect(error).toMatchObject({ code: 'NETWORK', retryable: true });
  });
});
