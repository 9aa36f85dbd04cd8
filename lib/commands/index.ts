/**
 * Business operations as plain functions `(runtime, input, meta)`: callable from a Lambda
 * handler, a script or a test alike. Inputs are expected to be parsed with ./schemas.ts.
 */
export { answerOf } from './answer.js';
export type { Answer, CommandMeta, Failure, Tally } from './answer.js';
export type { Runtime } from './runtime.js';
export * from './schemas.js';
export { bulkBind, signIn, signInOrQueue } from './sign-in.js';
export { bulkUnbindTokens, signOut } from './sign-out.js';
export { bulkDeleteAccounts, deleteAccount } from './delete-account.js';
export { listDevices } from './list-devices.js';
export type { DeviceList } from './list-devices.js';
export { DIRECT_ITEM_LIMIT } from './work.js';
export { DIRECT_COOL_DOWN_MS, DirectBreaker } from './direct-breaker.js';
