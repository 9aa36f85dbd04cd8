/** close() really stops the server: no listener, no connection, no pending latency left behind. */
import { request, Agent } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startTpnsEmulator } from '../../../local/tpns-emulator/index.js';
import { BATCH, bindBody, send } from './tpns-http.js';

const serverHandles = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap').length;

/** One keep-alive GET whose socket stays open afterwards; resolves with that socket's close event. */
async function openKeepAliveConnection(url: string): Promise<{ closed: Promise<void>; agent: Agent }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise((resolve, reject) => {
    const req = request(`${url}/_emulator/health`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ closed: new Promise((done) => req.socket?.once('close', () => done())), agent }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('close()', () => {
  it('ends idle keep-alive connections and in-flight slow calls, and frees the port', async () => {
    const before = serverHandles();
    const emulator = await startTpnsEmulator({ env: {} });
    expect(serverHandles()).toBe(before + 1);

    const idle = await openKeepAliveConnection(emulator.url);
    emulator.injectFault({ kind: 'latency', latencyMs: 60_000 });
    const slow = send(emulator, BATCH, bindBody('android', [['tok-slow', 'someone']])).then(
      () => 'answered',
      () => 'connection lost',
    );
    // Once the fault has fired, the call is waiting out its latency on the server.
    await expect.poll(() => emulator.faults()[0]?.fired, { timeout: 2_000 }).toBe(1);

    await emulator.close();
    await idle.closed;
    idle.agent.destroy();
    expect(await slow).toBe('connection lost');

    expect(serverHandles()).toBe(before);
    // The 60 s latency wait was cut short by close(), not left running: the call is already logged.
    expect(emulator.requests()).toEqual([expect.objectContaining({ path: BATCH, fault: 'latency', latencyMs: 60_000 })]);
    await expect(fetch(`${emulator.url}/_emulator/health`)).rejects.toThrow();
  });

  it('a second emulator can take the same port right after close', async () => {
    const first = await startTpnsEmulator({ env: {} });
    await Promise.all([first.close(), first.close()]);
    await first.close(); // idempotent
    const second = await startTpnsEmulator({ env: {}, port: first.port });
    try {
      expect(second.url).toBe(first.url);
    } finally {
      await second.close();
    }
  });
});
