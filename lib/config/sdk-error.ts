/**
 * An AWS SDK error as our messages name it: its class and its message (`Error: connect
 * ECONNREFUSED 127.0.0.1:8000`, `ResourceNotFoundException: Requested resource not found`). The
 * class alone named no cause. SDK messages carry no request data, so no token or secret.
 */
export const sdkErrorReason = (error: unknown): string =>
  error instanceof Error ? (error.message && error.message !== error.name ? `${error.name}: ${error.message}` : error.name) : 'unknown error';
