/**
 * What the security tests share: the test stack (test/support/stack.ts) with distinctive TPNS
 * secrets, everything the process writes (the handlers' JSON logs and EMF metrics) captured to
 * be searched, and readers of every place a secret or a personal identifier could rest: the
 * ledger table, the binding queue and its dead-letter queue.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { logger } from '../../lib/observability/logger.js';
import { localDynamoClient } from '../../local/dynamodb/local-dynamo.js';
import type { EmulatorAppCredentials } from '../../local/tpns-emulator/index.js';
import { captureOutput } from '../support/output.js';
import type { CapturedOutput } from '../support/output.js';
import { startStack } from '../support/stack.js';
import type { Stack, StackOptions } from '../support/stack.js';

export interface SecurityStackOptions {
  apps?: Partial<Record<'android' | 'ios', EmulatorAppCredentials>>;
  invalidTokens?: readonly string[];
  /** Handler log level for the run (default WARN). */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  env?: Record<string, string>;
  worker?: StackOptions['worker'];
}

export interface SecurityStack extends Stack {
  output: CapturedOutput;
  /** Every item of the ledger table, as DynamoDB returns them. */
  scanLedger(): Promise<Record<string, AttributeValue>[]>;
  /** Receives and deletes every dead letter; their raw bodies. */
  drainDeadLetters(): Promise<string[]>;
}

export async function startSecurityStack(options: SecurityStackOptions = {}): Promise<SecurityStack> {
  const stack = await startStack({
    emulator: { env: {}, ...(options.apps ? { apps: options.apps } : {}), ...(options.invalidTokens ? { invalidTokens: options.invalidTokens } : {}) },
    // EMF metric lines on, so they are searched too.
    env: { POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_METRICS_NAMESPACE: 'tpns-account-sync-test', ...options.env },
    ...(options.worker ? { worker: options.worker } : {}),
  });
  // The logger read POWERTOOLS_LOG_LEVEL when it was imported, before this environment existed.
  logger.setLogLevel(options.logLevel ?? 'WARN');
  const output = captureOutput();
  const dynamo = localDynamoClient(stack.dynamo.endpoint);
  const closeStack = stack.close.bind(stack);
  return Object.assign(stack, {
    output,
    async scanLedger() {
      const items: Record<string, AttributeValue>[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamo.send(new ScanCommand({ TableName: stack.dynamo.tableName, ...(start ? { ExclusiveStartKey: start } : {}) }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
    drainDeadLetters: () => stack.take('dead-letters'),
    close: async () => {
      output.stop();
      dynamo.destroy();
      await closeStack();
    },
  });
}
