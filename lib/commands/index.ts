/**
 * Business operations as plain functions `(runtime, input, meta)`: callable from a Lambda
 * handler, a script or a test alike. Inputs are expected to be parsed with ./schemas.ts.
 */
export { answerOf } from './answer.js';
export type { Answer, CommandMeta, Failure, Tally } from './answer.js';

export * from './schemas.js';
export { bulkBind, signIn, signInOrQueue } from './sign-in.js';
export { bulkUnbindTokens, signOut } from './sign-out.js';
export { bulkDeleteAccounts, deleteAccount } from './delete-account.js';
export { listDevices, listDevicesAtTpns } from './list-devices.js';
export type { DeviceList, LedgerDevice } from './list-devices.js';
export { erasureStatus } from './erasure-status.js';
export type { ErasureReceipt } from './erasure-status.js';
export { DIRECT_ITEM_LIMIT, configuredPlatforms } from './work.js';
