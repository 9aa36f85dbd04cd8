/**
 * The product's structured JSON logger (Powertools Logger: CloudWatch-friendly JSON, log levels
 * from POWERTOOLS_LOG_LEVEL, a correlation id key). One instance per process; handlers set the
 * correlation id per invocation with `logger.setCorrelationId(...)`.
 *
 * Never log secrets or raw device tokens: pass tokens through `redactToken`.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tpns-account-sync' });

export { redactToken } from './redact.js';
