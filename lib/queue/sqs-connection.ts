/**
 * One lazily created SQS client. `@aws-sdk/client-sqs` is imported on first use, so a handler
 * that answers from TPNS directly never pays for loading the SDK on its cold start.
 */
import type * as SqsModule from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';

export type SqsSdk = typeof SqsModule;

export interface SqsConnectionOptions {
  /** Overrides the SQS endpoint (fauxqs locally); the SDK also honours AWS_ENDPOINT_URL_SQS itself. */
  endpoint?: string;
  /** Default: the SDK's (AWS_REGION); `us-east-1` when only an endpoint is given (local emulators). */
  region?: string;
  /** Attempts per SQS API call, the SDK's own retry strategy (default 3). */
  maxAttempts?: number;
  /** Default: the SDK's provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface SqsConnection {
  sdk: SqsSdk;
  client: SQSClient;
}

/** SQS answers in milliseconds; a connection that takes longer than this is not coming back. */
const CONNECTION_TIMEOUT_MS = 1_000;
/** Bounds a hung request so a caller can still answer (503) within API Gateway's 29 s. */
const REQUEST_TIMEOUT_MS = 5_000;
const LOCAL_REGION = 'us-east-1';

/** A function returning the same connection every time, created on the first call. */
export function lazySqsConnection(options: SqsConnectionOptions): () => Promise<SqsConnection> {
  let connection: Promise<SqsConnection> | undefined;
  return () => {
    connection ??= Promise.all([import('@aws-sdk/client-sqs'), import('../config/sdk-client.js')]).then(([sdk, { SDK_CLIENT_OPTIONS, withoutSdkLogging }]) => ({
      sdk,
      client: withoutSdkLogging(new sdk.SQSClient({
        ...SDK_CLIENT_OPTIONS,
        ...(options.endpoint ? { endpoint: options.endpoint, region: options.region ?? LOCAL_REGION } : {}),
        ...(options.region ? { region: options.region } : {}),
        ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
        requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
      })),
    }));
    return connection;
  };
}
