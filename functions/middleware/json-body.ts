/**
 * @middy/http-json-body-parser, for HTTP routes that take a body only: used as-is it would
 * refuse EventBridge and Cognito invocations (no Content-Type) and bodiless GET/DELETE requests.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { FunctionContext } from './context.js';

export const parseJsonBody = (): MiddlewareObj<unknown, unknown, Error, FunctionContext> => {
  const parser = httpJsonBodyParser<APIGatewayProxyEventV2>();
  return {
    name: 'parseJsonBody',
    before: async (request) => {
      const { trigger, route } = request.context;
      if (trigger.kind !== 'http' || !route?.takesBody) return;
      // recognizeTrigger made request.event the validated HTTP API v2 event.
      await parser.before?.(request as unknown as Request<APIGatewayProxyEventV2>);
    },
  };
};
