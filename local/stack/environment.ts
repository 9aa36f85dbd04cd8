/**
 * The environment the handlers run with locally: serverless.yml's `provider.environment` (its
 * plain values, as Lambda would set them), your shell's values where you set them, and the local
 * wiring (emulator, SQS and DynamoDB emulators, dummy AWS credentials) forced on top.
 *
 * Why hand-written: this service's own wiring and output, which no library knows (docs/architecture.md, "Why local/ is hand-written").
 */
// Nothing from lib/ that creates the logger or the metrics may be imported here: they read their
// level and switch when imported, and this module runs before the environment is applied.
import { LOCAL_CREDENTIALS, LOCAL_SQS_REGION } from '../sqs/client.js';
import type { ServerlessConfig } from '../serverless-config.js';

export type EnvironmentPatch = Record<string, string | undefined>;

/** Handlers log at INFO in Lambda; locally that would bury the ready block. LOG_LEVEL changes it. */
const DEFAULT_LOCAL_LOG_LEVEL = 'WARN';
/** Deployed values that must not leak into the local run (SSM names, empty app ids). */
const NOT_LOCAL = /^TPNS_(ANDROID|IOS)_|^ERASURE_KEY_PARAM$/;
/** TPNS is read back 2 s after a push locally (15 s deployed): a sign-in is verified while you watch. */
export const LOCAL_VERIFY_DELAY_SECONDS = 2;

export interface LocalWiring {
  /** TPNS_ENDPOINT + app credentials of the emulator; empty when talking to real TPNS. */
  tpns: Record<string, string>;
  sqsEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
  /** The DynamoDB emulator (its fault proxy) and the ledger table in it. */
  dynamoEndpoint: string;
  tableName: string;
  /** Handler log level unless LOG_LEVEL/POWERTOOLS_LOG_LEVEL is set; default WARN. */
  defaultLogLevel?: string;
  /** The erasure HMAC key unless the shell sets ERASURE_KEY; when neither, ERASURE_KEY stays unset. */
  erasureKey?: string;
}

/** The variables to set, given the deployed config and the shell's current environment. */
export function localEnvironment(config: ServerlessConfig, shell: NodeJS.ProcessEnv, wiring: LocalWiring): EnvironmentPatch {
  const provider = config.document.provider as { environment?: Record<string, unknown> } | undefined;
  const deployed: EnvironmentPatch = {};
  for (const [name, value] of Object.entries(provider?.environment ?? {})) {
    const plain = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
    if (plain && !NOT_LOCAL.test(name) && shell[name] === undefined) deployed[name] = String(value);
  }
  return {
    ...deployed,
    // Secrets come from the plain variables locally, never from SSM: the TPNS SecretKeys from
    // TPNS_*_SECRET_KEY, the erasure HMAC key from ERASURE_KEY (default: the code's development key).
    TPNS_ANDROID_SECRET_KEY_PARAM: undefined,
    TPNS_IOS_SECRET_KEY_PARAM: undefined,
    ERASURE_KEY_PARAM: undefined,
    ERASURE_KEY: shell.ERASURE_KEY ?? wiring.erasureKey,
    ...wiring.tpns,
    BINDING_QUEUE_URL: wiring.queueUrl,
    BINDING_DLQ_URL: wiring.dlqUrl,
    AWS_ENDPOINT_URL_SQS: wiring.sqsEndpoint,
    BINDINGS_TABLE: wiring.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: wiring.dynamoEndpoint,
    VERIFY_DELAY_SECONDS: shell.VERIFY_DELAY_SECONDS ?? String(LOCAL_VERIFY_DELAY_SECONDS),
    AWS_REGION: LOCAL_SQS_REGION,
    // fauxqs and dynalite check no signature, but the SDK will not sign without credentials.
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    POWERTOOLS_LOG_LEVEL: shell.LOG_LEVEL ?? shell.POWERTOOLS_LOG_LEVEL ?? wiring.defaultLogLevel ?? DEFAULT_LOCAL_LOG_LEVEL,
    // EMF metric lines on stdout are for CloudWatch; POWERTOOLS_METRICS_DISABLED=false shows them.
    POWERTOOLS_METRICS_DISABLED: shell.POWERTOOLS_METRICS_DISABLED ?? 'true',
  };
}

/** Applies `patch` to process.env and returns the function that puts the previous values back. */
export function applyEnvironment(patch: EnvironmentPatch): () => void {
  const previous: EnvironmentPatch = Object.fromEntries(Object.keys(patch).map((name) => [name, process.env[name]]));
  const write = (values: EnvironmentPatch) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  write(patch);
  return () => write(previous);
}
