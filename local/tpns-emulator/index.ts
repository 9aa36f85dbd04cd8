/**
 * The TPNS emulator's public surface (knows nothing of the client in lib/).
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
 */
export { startTpnsEmulator } from './server.js';
export type { EmulatorAppCredentials, EmulatorState, TpnsEmulator, TpnsEmulatorOptions } from './server.js';
export { computeSign } from './auth.js';
export type { EmulatorPlatform } from './auth.js';
export { DEFAULT_APPS, DEFAULT_PORT, emulatorSettingsFromEnv, shownSecretKey } from './config.js';
export { FAULT_KINDS } from './faults.js';
export type { ActiveFault, FaultKind, FaultRule } from './faults.js';
export type { EmulatorCounters, RequestedItem, RequestLogEntry } from './log.js';
export type { ApplyWindow } from './runtime.js';
export { CODE as TPNS_EMULATOR_CODES } from './operations.js';
export { MAX_TOKENS_PER_ACCOUNT } from './state.js';
export { MAX_TOKEN_ACCOUNTS } from './schemas.js';
