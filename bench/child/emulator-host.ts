/**
 * The TPNS emulator in a process of its own, as TPNS is a service of its own: the handlers, the
 * SQS emulator and the harness in the bench process cannot slow its answers down by sharing its
 * event loop. Sends `{ url, env, apps }` when listening; `'cpu'` asks for its CPU time, `'exit'` closes it.
 */
import { startTpnsEmulator } from '../../local/tpns-emulator/index.js';

const emulator = await startTpnsEmulator({ env: {} });
process.on('message', (message) => {
  if (message === 'exit') void emulator.close().then(() => process.exit(0));
  // CPU time used so far (µs), to account the cost of a scenario per process.
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
process.send?.({ url: emulator.url, env: emulator.env, apps: emulator.apps });
