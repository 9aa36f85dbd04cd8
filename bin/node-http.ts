/**
 * `node:http` as the Lambda bundles see it (bin/build.ts and serverless.yml alias `node:http` and
 * `http` to this file). An ES `import ... from 'node:http'` makes Node build the module's
 * namespace, which reads its lazy `WebSocket`, `CloseEvent` and `MessageEvent` getters and so
 * loads undici: ~20 ms of every cold start here, paid at import because @middy/util (imported
 * by @middy/core) takes STATUS_CODES from node:http. The CommonJS exports object that
 * process.getBuiltinModule returns costs ~3 ms and is the very same module.
 */
const http = process.getBuiltinModule('node:http');

export const {
  Agent,
  ClientRequest,
  IncomingMessage,
  METHODS,
  OutgoingMessage,
  STATUS_CODES,
  Server,
  ServerResponse,
  createServer,
  get,
  globalAgent,
  maxHeaderSize,
  request,
  setMaxIdleHTTPParsers,
  validateHeaderName,
  validateHeaderValue,
} = http;
export default http;
