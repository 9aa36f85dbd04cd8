/**
 * The TPNS emulator in a process of its own, as TPNS is a service of its own: the handlers and
 * the harness in the bench process cannot slow its answers down by sharing its event loop.
 * Sends `{ url, env, apps }` when listening.
 */
import { startTpnsEmulator } from '../../local/tpns-emulator/index.js';
import { serveParent } from './service-host.js';

const emulator = await startTpnsEmulator({ env: {} });
serveParent({ url: emulator.url, env: emulator.env, apps: emulator.apps }, () => emulator.close());
