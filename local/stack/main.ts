/**
 * `npm start`: the function set on 127.0.0.1 with no cloud account (see docs/local.md).
 *
 * Environment: PORT (API, default 3000), TPNS_EMULATOR_PORT (default 4010), SQS_PORT (default
 * 9324), DYNAMODB_PORT (default 8000), BINDING_QUEUE_VISIBILITY_TIMEOUT (s, default
 * serverless.yml's), VERIFY_DELAY_SECONDS (default 2 locally), LOG_LEVEL (handler logs, default
 * WARN), and TPNS_{ANDROID,IOS}_{ACCESS_ID,SECRET_KEY} + TPNS_REGION to talk to real TPNS
 * instead of the emulator.
 *
 * Why hand-written: this service's own wiring and output, which no library knows (docs/architecture.md, "Why local/ is hand-written").
 */
import { createServer } from 'node:net';
import { ConfigurationError } from '../../lib/config/config.js';
import { TpnsConfigError } from '../../lib/tpns/errors.js';
import { DEFAULT_PORT as DEFAULT_EMULATOR_PORT } from '../tpns-emulator/config.js';
import { LocalDynamoPortInUseError } from '../dynamodb/local-dynamo.js';
import { LocalSqsPortInUseError } from '../sqs/fauxqs.js';
import { PortInUseError } from './http-host.js';
import type { AccessLogEntry } from './http-host.js';
import { startProgressView } from './progress.js';
import type { ProgressView } from './progress.js';
import { readyBanner } from './ready-banner.js';
import { startLocalStack } from './stack.js';
import type { LocalStack } from './stack.js';
import { TpnsCredentialsError } from './tpns-target.js';

const DEFAULT_API_PORT = 3000;
/** ElasticMQ's port, the usual local SQS address. */
const DEFAULT_SQS_PORT = 9324;
/** DynamoDB Local's port, the usual local DynamoDB address. */
const DEFAULT_DYNAMODB_PORT = 8000;

/** Errors a user can fix from the message alone: one line, no stack trace. */
class UsageError extends Error {}

function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(1);
}

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65_535) throw new UsageError(`${name} must be a port number (0-65535), got "${raw}"`);
  return port;
}

function secondsFrom(name: string): number | undefined {
  const raw = process.env[name]?.trim();
  if (!raw) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > 43_200) throw new UsageError(`${name} must be whole seconds (0-43200, SQS's range), got "${raw}"`);
  return Number(raw);
}

function describeStartFailure(error: unknown): string | undefined {
  if (error instanceof PortInUseError) {
    const variable = error.message.includes('TPNS emulator') ? 'TPNS_EMULATOR_PORT' : 'PORT';
    return `${error.message} (choose another with ${variable}=...)`;
  }
  if (error instanceof LocalSqsPortInUseError) return `${error.message} (choose another with SQS_PORT=...)`;
  if (error instanceof LocalDynamoPortInUseError) return `${error.message} (choose another with DYNAMODB_PORT=...)`;
  if (error instanceof UsageError || error instanceof TpnsCredentialsError) return error.message;
  if (error instanceof TpnsConfigError || error instanceof ConfigurationError) return error.message;
  if (error instanceof Error && error.message.startsWith('serverless.yml:')) return error.message;
  return undefined;
}

function accessLine(entry: AccessLogEntry): string {
  const route = entry.routeKey ? `${entry.routeKey} -> ${entry.functionName}` : `${entry.method} (no route)`;
  return `${route}: ${entry.status} in ${entry.durationMs} ms`;
}

const HELP = `npm start: the whole function set on 127.0.0.1 (HTTP API, worker, TPNS, SQS and DynamoDB emulators).

Environment:
  PORT                               HTTP API port (default ${DEFAULT_API_PORT})
  TPNS_EMULATOR_PORT                 TPNS emulator port (default ${DEFAULT_EMULATOR_PORT})
  SQS_PORT                           SQS emulator (fauxqs) port (default ${DEFAULT_SQS_PORT})
  DYNAMODB_PORT                      DynamoDB emulator (dynalite) port (default ${DEFAULT_DYNAMODB_PORT})
  BINDING_QUEUE_VISIBILITY_TIMEOUT   seconds a failed message stays away (default: serverless.yml's)
  VERIFY_DELAY_SECONDS               seconds before TPNS is read back after a push (default 2 locally)
  MAX_VERIFY_ATTEMPTS                read-backs that may differ before a key is dead-lettered (default 6)
  SWEEP_AFTER_SECONDS                how long unverified work may stand still before the sweep queues it (default 1200)
  DIRECT_COOL_DOWN_MS                direct pushes skipped after TPNS struggled, in ms (default 5000; 0 disables)
  ERASURE_KEY                        HMAC key of tombstones and index items (default: the development key)
  LOG_LEVEL                          handler log level (default WARN)
  POWERTOOLS_METRICS_DISABLED        false prints the EMF metric lines CloudWatch would receive (default true)
  ACCOUNT_CLAIM, ADMIN_SCOPE         the JWT claim holding the account, the admin routes' scope (sub, tpns/admin)
  TPNS_EMULATOR_INVALID_TOKENS, TPNS_EMULATOR_PROPAGATION_MS, TPNS_EMULATOR_APPLY_WINDOW_MS   emulator behaviour
  TPNS_{ANDROID,IOS}_{ACCESS_ID,SECRET_KEY}, TPNS_REGION, TPNS_ENDPOINT   use real TPNS instead of the emulator

Ctrl-C stops everything (the worker finishes its batch); a second Ctrl-C exits at once.
See docs/local.md.
`;

/** Whether 127.0.0.1:`port` can be listened on right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Every taken port at once, so one attempt tells the user all there is to change. */
async function takenPorts(ports: Record<string, number>): Promise<{ variable: string; port: number }[]> {
  const checks = await Promise.all(Object.entries(ports).map(async ([variable, port]) => ({ variable, port, free: port === 0 || (await portIsFree(port)) })));
  return checks.filter(({ free }) => !free).map(({ variable, port }) => ({ variable, port }));
}

async function main(): Promise<void> {
  if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(HELP);
    return;
  }
  // Set once the stack is up; lines printed before that go straight to stdout.
  let progress: ProgressView | undefined = undefined;
  const print = (line: string) => (progress ? progress.log(line) : process.stdout.write(`${line}\n`));

  let stack: LocalStack;
  try {
    const visibilityTimeoutSeconds = secondsFrom('BINDING_QUEUE_VISIBILITY_TIMEOUT');
    const ports = {
      PORT: portFrom('PORT', DEFAULT_API_PORT),
      TPNS_EMULATOR_PORT: portFrom('TPNS_EMULATOR_PORT', DEFAULT_EMULATOR_PORT),
      SQS_PORT: portFrom('SQS_PORT', DEFAULT_SQS_PORT),
      DYNAMODB_PORT: portFrom('DYNAMODB_PORT', DEFAULT_DYNAMODB_PORT),
    };
    const taken = await takenPorts(ports);
    if (taken.length > 0) {
      const listed = taken.map(({ variable, port }) => `port ${port} (${variable})`).join(', ');
      throw new UsageError(`already in use on 127.0.0.1: ${listed}; free them or choose others: ${taken.map(({ variable }) => `${variable}=...`).join(' ')} (0 = any free port)`);
    }
    stack = await startLocalStack({
      port: ports.PORT,
      emulatorPort: ports.TPNS_EMULATOR_PORT,
      sqsPort: ports.SQS_PORT,
      dynamoPort: ports.DYNAMODB_PORT,
      ...(visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds }),
      schedule: true,
      onRequest: (entry) => print(accessLine(entry)),
      onError: (error, where) => print(`error in ${where}: ${error instanceof Error ? error.message : String(error)}`),
    });
  } catch (error) {
    const message = describeStartFailure(error);
    if (message) fail(message);
    throw error;
  }

  process.stdout.write(readyBanner(stack));
  progress = startProgressView(async () => ({ ...(await stack.sqs.depth()), done: stack.worker.stats().deleted }));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without waiting\n`);
      process.exit(130);
    }
    stopping = true;
    progress?.stop();
    process.stdout.write(`\n${signal}: stopping (the worker finishes its running batch; Ctrl-C again exits at once)...\n`);
    stack.stop().then(
      () => {
        process.stdout.write('stopped; every port is free.\n');
        process.exit(0);
      },
      (error: unknown) => fail(`could not stop cleanly: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

await main();
