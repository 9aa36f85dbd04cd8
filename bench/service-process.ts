/**
 * The parent's side of a service run in a child process (bench/child/service-host.ts): starts it,
 * waits for what it reports when listening, and reads its CPU time or ends it over IPC.
 */
import { fork } from 'node:child_process';

export interface ServiceProcess<Ready> {
  /** What the child sent once listening (address, credentials, queue URLs...). */
  ready: Ready;
  /** CPU time the process used so far, ms. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

export async function startServiceProcess<Ready>(script: string, name: string, args: readonly string[] = []): Promise<ServiceProcess<Ready>> {
  const child = fork(script, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the ${name} process exited with ${code}`)));
    child.once('message', (message) => resolve(message as Ready));
  });
  child.removeAllListeners('exit');
  return {
    ready,
    cpuMs: () =>
      new Promise((resolve) => {
        const onMessage = (message: { cpu?: NodeJS.CpuUsage }) => {
          if (!message.cpu) return;
          child.off('message', onMessage);
          resolve((message.cpu.user + message.cpu.system) / 1000);
        };
        child.on('message', onMessage);
        child.send('cpu');
      }),
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('exit');
      await exited;
    },
  };
}
