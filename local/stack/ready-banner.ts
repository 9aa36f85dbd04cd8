/**
 * The block `npm start` prints once everything listens: where each part is, what the worker is
 * configured with, and a sign-in a newcomer can paste. Tests and docs key on the `API: ` line.
 */
import type { Stack } from './stack.js';

const EXAMPLE_DEVICE_TOKEN = 'my-android-device-token-01';

function tpnsLines(stack: Stack): string[] {
  if (stack.emulator) {
    const { android, ios } = stack.emulator.apps;
    return [
      `TPNS emulator: ${stack.emulator.url}   (state: curl -s ${stack.emulator.url}/_emulator/state)`,
      `  android app  AccessId ${android.accessId}  SecretKey ${android.secretKey}`,
      `  ios app      AccessId ${ios.accessId}  SecretKey ${ios.secretKey}`,
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

export function readyBanner(stack: Stack): string {
  const { batchSize, concurrency, visibilityTimeoutSeconds, maxReceiveCount } = stack.settings;
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
    `Worker: batches of ${batchSize}, ${concurrency} at once, visibility timeout ${visibilityTimeoutSeconds} s, ` +
      `dead-lettered after ${maxReceiveCount} receives`,
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
