/**
 * The Lambda `context` a locally hosted handler receives: the fields Powertools and middy read
 * (function name, request id, remaining time), with the function's configured timeout.
 *
 * Why hand-written: serverless-offline cannot host this HTTP API (JWT authorizer crash, `!Ref` left unresolved) (docs/architecture.md, "Why local/ is hand-written").
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

const LOCAL_REGION = 'us-east-1';
const LOCAL_ACCOUNT_ID = '000000000000';

export function createLambdaContext(functionName: string, timeoutSeconds: number, memoryMb = 256): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const region = process.env.AWS_REGION ?? LOCAL_REGION;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export { LOCAL_ACCOUNT_ID };
