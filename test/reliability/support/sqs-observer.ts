/**
 * A pass-through HTTP proxy in front of fauxqs that counts what SQS refused: the functions talk
 * to it (AWS_ENDPOINT_URL_SQS), it forwards every request unchanged and reads the answers of
 * SendMessageBatch for `Failed` entries. It observes; it changes nothing.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SqsObserver {
  endpoint: string;
  /** SendMessageBatch entries SQS answered as failed. */
  refusedEntries(): number;
  close(): Promise<void>;
}

export async function observeSqs(target: string): Promise<SqsObserver> {
  let refused = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(request.headers).flatMap(([name, value]) => (typeof value === 'string' && name !== 'host' ? [[name, value]] : [])),
      );
      fetch(`${target}${request.url ?? '/'}`, { method: request.method ?? 'POST', headers, body: chunks.length > 0 ? Buffer.concat(chunks) : null })
        .then(async (answer) => {
          const body = Buffer.from(await answer.arrayBuffer());
          if (request.headers['x-amz-target'] === 'AmazonSQS.SendMessageBatch' && answer.ok) {
            refused += ((JSON.parse(body.toString('utf8')) as { Failed?: unknown[] }).Failed ?? []).length;
          }
          response.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([name]) => name !== 'content-length' && name !== 'content-encoding')));
          response.end(body);
        })
        .catch(() => {
          response.destroy();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    refusedEntries: () => refused,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
