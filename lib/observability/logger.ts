/**
 * The product's structured JSON logger (Powertools Logger: CloudWatch-friendly JSON, log levels
 * from POWERTOOLS_LOG_LEVEL, a correlation id key). One instance per process; handlers set the
 * correlation id per invocation with `logger.setCorrelationId(...)`.
 *
 * Never log secrets or raw device tokens: pass tokens through `redactToken`.
 */
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tpns-account-sync' });

/**
 * Device tokens address a person's phone: logs carry a short, stable hash instead, enough to
 * follow one device through the logs without being able to push to it.
 */
export function redactToken(token: string): string {
  return `tok_${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}
