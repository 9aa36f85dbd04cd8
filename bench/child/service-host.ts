/**
 * The child's side of bench/service-process.ts: sends `ready` to the parent, answers `'cpu'` with
 * the process's CPU time (to account a scenario's cost per process) and `'exit'` by closing.
 */
export function serveParent(ready: object, close: () => Promise<void>): void {
  process.on('message', (message) => {
    if (message === 'exit') void close().then(() => process.exit(0));
    if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  });
  process.send?.(ready);
}
