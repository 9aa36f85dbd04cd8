/**
 * What the end-to-end tests share: a stack started in-process exactly as `npm start` starts it
 * (ports 0, quiet), tuned for speed through the stack's own options, and a tiny HTTP client.
 *
 * Speed knobs (documented in docs/local.md): the worker's timeout and the binding queue's
 * visibility timeout are both 20 s instead of 60 s / 360 s (visibility >= timeout, as AWS
 * requires), and the worker's TPNS retry budget is 8 s instead of 20 s, so a chunk the worker
 * hands back is redelivered within seconds. The long poll is 1 s so stop() is quick.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { localSqsClient } from '../../local/sqs/client.js';
import { signDevToken } from '../../local/stack/jwt.js';
import { startStack } from '../../local/stack/stack.js';
import type { Stack, StackOptions } from '../../local/stack/stack.js';

const TEST_WORKER_TIMEOUT_SECONDS = 20;

export function startTestStack(options: StackOptions = {}): Promise<Stack> {
  return startStack({
    workerTimeoutSeconds: TEST_WORKER_TIMEOUT_SECONDS,
    visibilityTimeoutSeconds: TEST_WORKER_TIMEOUT_SECONDS,
    waitTimeSeconds: 1,
    quiet: true,
    env: { WORKER_RETRY_BUDGET_MS: '8000' },
    // A test whose handler fails should say why, not only that a status differed.
    onError: (error, where) => console.warn(`[stack] ${where}:`, error),
    ...options,
  });
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown;
}

export interface CallOptions {
  /** A dev JWT; omit for an anonymous call. */
  token?: string;
  /** Serialised as JSON unless it is a string (sent as is, e.g. malformed JSON). */
  body?: unknown;
}

export async function callApi(stack: Stack, method: string, path: string, options: CallOptions = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(`${stack.apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

export const userToken = (account: string) => signDevToken(account);
export const adminToken = () => signDevToken('ops-admin', { admin: true });

/** batchoperate calls the emulator has answered so far. */
export function batchoperateCalls(stack: Stack) {
  return (stack.emulator?.requests() ?? []).filter((entry) => entry.path.endsWith('/batchoperate'));
}

/** Takes every message out of the dead-letter queue (FIFO hides a group's next message until the first is deleted). */
export async function takeDeadLetters(stack: Stack): Promise<unknown[]> {
  const client = localSqsClient(stack.sqs.endpoint);
  const bodies: unknown[] = [];
  try {
    for (;;) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({ QueueUrl: stack.sqs.dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) return bodies;
      bodies.push(...Messages.map((message) => JSON.parse(message.Body ?? 'null') as unknown));
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: stack.sqs.dlqUrl,
          Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
  } finally {
    client.destroy();
  }
}
