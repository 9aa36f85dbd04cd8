/**
 * The block `npm start` prints once everything listens: where each part is, what the worker is
 * configured with, the exports that point the AWS CLI / SDK / tpns-accounts at the local queues
 * and table, and a sign-in a newcomer can paste. Tests and docs key on the `API: ` line.
 *
 * Why hand-written: this service's own wiring and output, which no library knows (docs/architecture.md, "Why local/ is hand-written").
 */
import { shownSecretKey } from '../tpns-emulator/index.js';
import type { LocalStack } from './stack.js';

const EXAMPLE_DEVICE_TOKEN = 'my-android-device-token-01';

function tpnsLines(stack: LocalStack): string[] {
  if (stack.emulator) {
    const { android, ios } = stack.emulator.apps;
    return [
      `TPNS emulator: ${stack.emulator.url}   (state: curl -s ${stack.emulator.url}/_emulator/state)`,
      `  android app  AccessId ${android.accessId}  SecretKey ${shownSecretKey('android', android.secretKey)}`,
      `  ios app      AccessId ${ios.accessId}  SecretKey ${shownSecretKey('ios', ios.secretKey)}`,
    ];
  }
  if (stack.tpns.kind !== 'tencent') return [];
  const apps = (['android', 'ios'] as const).map((platform) => {
    const accessId = stack.tpns.kind === 'tencent' ? stack.tpns.accessIds[platform] : undefined;
    return `${platform} ${accessId ? `AccessId ${accessId}` : 'not configured'}`;
  });
  return [
    `TPNS: REAL Tencent Push at ${stack.tpns.baseUrl} (no emulator)`,
    `  ${apps.join(', ')}`,
    '  !! Requests change the real bindings of these TPNS apps.',
  ];
}

/**
 * What a shell in another terminal needs to reach the local SQS and DynamoDB (dummy credentials)
 * and to run tpns-accounts against them: its `--via-queue` and `erasure-status` key tombstones
 * with ERASURE_KEY, which must be the key the handlers run with (a local, in-memory ledger's).
 */
export function cliEnvironment(stack: LocalStack): Record<string, string> {
  const { sqs, dynamo } = stack;
  const erasureKey = stack.env.ERASURE_KEY;
  return {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.env.AWS_ENDPOINT_URL_DYNAMODB,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    BINDINGS_TABLE: dynamo.env.BINDINGS_TABLE,
    BINDING_QUEUE_URL: sqs.queueUrl,
    BINDING_DLQ_URL: sqs.dlqUrl,
    ...(erasureKey === undefined ? {} : { ERASURE_KEY: erasureKey }),
    AWS_REGION: dynamo.env.AWS_REGION,
    // The AWS CLI v1 reads only this one.
    AWS_DEFAULT_REGION: dynamo.env.AWS_REGION,
    AWS_ACCESS_KEY_ID: dynamo.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: dynamo.env.AWS_SECRET_ACCESS_KEY,
  };
}

const SHELL_SAFE = /^[\w.:/@%+=,-]+$/;
const shellWord = (value: string) => (SHELL_SAFE.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`);

function exportLines(env: Record<string, string>): string[] {
  return Object.entries(env).map(([name, value]) => `  export ${name}=${shellWord(value)}`);
}

function workerLine(stack: LocalStack): string {
  const { batchSize, maximumBatchingWindowSeconds, concurrency, visibilityTimeoutSeconds, maxReceiveCount, sweepEverySeconds } = stack.settings;
  const batches = maximumBatchingWindowSeconds > 0 ? `batches of up to ${batchSize} gathered for up to ${maximumBatchingWindowSeconds} s` : `batches of ${batchSize}`;
  const { verifyDelaySeconds, sweepAfterSeconds } = stack.handlerSettings;
  const sweep = sweepEverySeconds === undefined ? '' : `; every ${sweepEverySeconds} s it sweeps up work that stood still ${sweepAfterSeconds} s`;
  return `Worker: ${batches}, ${concurrency} at once, visibility timeout ${visibilityTimeoutSeconds} s, dead-lettered after ${maxReceiveCount} receives; TPNS read back ${verifyDelaySeconds} s after a push${sweep}`;
}

export function readyBanner(stack: LocalStack): string {
  const api = stack.apiUrl;
  return [
    '',
    'tpns-account-sync is running locally (Ctrl-C stops everything)',
    '',
    `API: ${api}`,
    ...tpnsLines(stack),
    `SQS: ${stack.sqs.endpoint}`,
    `  queue        ${stack.sqs.queueUrl}`,
    `  dead-letter  ${stack.sqs.dlqUrl}`,
    `DynamoDB: ${stack.dynamo.endpoint}`,
    `  table        ${stack.dynamo.tableName}   (in memory: gone when the stack stops)`,
    workerLine(stack),
    '',
    'Point the AWS CLI, the SDK or tpns-accounts at it (in another terminal):',
    ...exportLines(cliEnvironment(stack)),
    '  aws dynamodb scan --table-name "$BINDINGS_TABLE"',
    '',
    'Sign in on a device (in another terminal):',
    '  TOKEN=$(npm run --silent token -- alice)',
    `  curl -X PUT ${api}/v1/me/devices/${EXAMPLE_DEVICE_TOKEN} -H "Authorization: Bearer $TOKEN" \\`,
    `    -H 'content-type: application/json' -d '{"platform":"android"}'`,
    `  curl ${api}/v1/me/devices -H "Authorization: Bearer $TOKEN"`,
    '',
    `Handler logs at ${stack.env.POWERTOOLS_LOG_LEVEL} (LOG_LEVEL=INFO npm start for more). Walkthrough: docs/local.md`,
    '',
  ].join('\n');
}
