/**
 * What the commands that work on the deployment's AWS resources need (`import --via-queue`,
 * `redrive`, `erasure-status`): the variables the deployed functions get (serverless.yml), checked
 * up front so a missing one is a usage error (exit 2) that names it, before anything is read or
 * sent. The AWS SDK and the runtime are loaded only here: the TPNS-only commands never pay for them.
 */
import type { Runtime } from '../lib/config/runtime.js';
import { UsageError } from './exit.js';

export type AwsNeed = 'BINDING_QUEUE_URL' | 'BINDING_DLQ_URL' | 'BINDINGS_TABLE' | 'ERASURE_KEY' | 'AWS_REGION';

const WHAT: Record<AwsNeed, string> = {
  BINDING_QUEUE_URL: 'BINDING_QUEUE_URL set to the binding queue URL',
  BINDING_DLQ_URL: "BINDING_DLQ_URL set to the binding queue's dead-letter queue URL",
  BINDINGS_TABLE: 'BINDINGS_TABLE set to the intent ledger table',
  // The HMAC key the deployment keys account index items and tombstones with: another key would
  // look up (and write) receipts and index items nobody else can find.
  ERASURE_KEY: "ERASURE_KEY_PARAM (the SSM parameter holding the deployment's erasure HMAC key) or ERASURE_KEY",
  AWS_REGION: 'AWS_REGION (or a region in the AWS profile) set to the region of the deployment',
};

const needs = (command: string, need: AwsNeed): UsageError => new UsageError(`${command} needs ${WHAT[need]}`);

/** The region the AWS SDK would use, resolved as the SDK does (AWS_REGION, then the profile). */
async function sdkRegion(): Promise<string | undefined> {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({});
  try {
    return await client.config.region();
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

/** Throws a UsageError naming the first variable `command` needs and `env` lacks. */
export async function requireAws(env: NodeJS.ProcessEnv, command: string, required: readonly AwsNeed[]): Promise<void> {
  for (const need of required) {
    switch (need) {
      case 'BINDING_QUEUE_URL':
      case 'BINDING_DLQ_URL': {
        const url = env[need];
        if (!url || !URL.canParse(url)) throw needs(command, need);
        break;
      }
      case 'BINDINGS_TABLE':
        if (!env.BINDINGS_TABLE?.trim()) throw needs(command, need);
        break;
      case 'ERASURE_KEY':
        // Blank is absent (loadConfig trims): else the development key would stand in for the deployment's.
        if (!env.ERASURE_KEY?.trim() && !env.ERASURE_KEY_PARAM?.trim()) throw needs(command, need);
        break;
      case 'AWS_REGION':
        if (!(await sdkRegion())) throw needs(command, need);
        break;
    }
  }
}

/**
 * The runtime the deployed functions build from the same variables (ledger, queue, TPNS client,
 * settings), after checking what `command` needs. ERASURE_KEY_PARAM is read from SSM as they do.
 */
export async function deploymentRuntime(env: NodeJS.ProcessEnv, command: string, required: readonly AwsNeed[]): Promise<Runtime> {
  await requireAws(env, command, required);
  const [{ createRuntime }, { loadConfig }] = await Promise.all([import('../lib/config/runtime.js'), import('../lib/config/config.js')]);
  return createRuntime(await loadConfig(env));
}
