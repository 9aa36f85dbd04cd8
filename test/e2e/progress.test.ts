/**
 * The queue status line of `npm start`: silent while idle, counts while work drains, one summary
 * when drained, and log lines never garbled by the redrawn status. Driven by scripted snapshots
 * and fake timers (no waiting).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startProgressView } from '../../local/stack/progress.js';
import type { QueueSnapshot } from '../../local/stack/progress.js';

const idle: QueueSnapshot = { queued: 0, inFlight: 0, delayed: 0, deadLettered: 0, done: 0 };

function scripted(snapshots: QueueSnapshot[]) {
  let index = 0;
  return () => Promise.resolve(snapshots[Math.min(index++, snapshots.length - 1)] ?? idle);
}

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (text: string) => chunks.push(text), text: () => chunks.join('') };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('queue progress view', () => {
  it('says nothing while the queue is empty', async () => {
    const output = sink(false);
    const view = startProgressView(scripted([idle]), output);
    await vi.advanceTimersByTimeAsync(10_000);
    view.stop();
    expect(output.text()).toBe('');
  });

  it('prints counts while a burst drains, then one summary with what was dead-lettered', async () => {
    const output = sink(false);
    const view = startProgressView(
      scripted([
        { ...idle, done: 5 },
        { queued: 60, inFlight: 40, delayed: 0, deadLettered: 0, done: 5 },
        { queued: 0, inFlight: 30, delayed: 0, deadLettered: 1, done: 75 },
        { ...idle, deadLettered: 1, done: 105 },
      ]),
      output,
    );
    await vi.advanceTimersByTimeAsync(2_000);
    view.stop();
    const lines = output.text().trim().split('\n');
    expect(lines[0]).toBe('queue: 0/100 message(s) done, 60 waiting, 40 in flight, 0 delayed (read-backs, retries), 0 dead-lettered');
    expect(lines).toContain('dead-letter queue: 1 new message(s), 1 in all (docs/operations.md: reading a dead letter)');
    expect(lines.at(-1)).toBe('queue drained: 100 message(s) done, 1 in the dead-letter queue');
  });

  it('reports a dead letter even when its whole burst fell between two samples', async () => {
    const output = sink(false);
    const view = startProgressView(scripted([idle, { ...idle, deadLettered: 2, done: 3 }]), output);
    await vi.advanceTimersByTimeAsync(2_000);
    view.stop();
    expect(output.text().trim().split('\n')).toEqual(['dead-letter queue: 2 new message(s), 2 in all (docs/operations.md: reading a dead letter)']);
  });

  it('counts delayed read-backs as remaining work, so the burst ends only when they are done', async () => {
    const output = sink(false);
    const view = startProgressView(
      scripted([idle, { ...idle, delayed: 4, done: 4 }, { ...idle, delayed: 4, done: 4 }, { ...idle, done: 8 }]),
      output,
    );
    await vi.advanceTimersByTimeAsync(2_000);
    view.stop();
    const lines = output.text().trim().split('\n');
    expect(lines[0]).toBe('queue: 0/4 message(s) done, 0 waiting, 0 in flight, 4 delayed (read-backs, retries), 0 dead-lettered');
    expect(lines.at(-1)).toBe('queue drained: 4 message(s) done, 0 in the dead-letter queue');
  });

  it('on a terminal redraws one status line and clears it before a log line', async () => {
    const output = sink(true);
    const view = startProgressView(scripted([{ queued: 10, inFlight: 10, delayed: 0, deadLettered: 0, done: 0 }]), output);
    await vi.advanceTimersByTimeAsync(600);
    expect(output.text()).toContain('queue [');
    expect(output.text()).not.toContain('\n');
    view.log('PUT /v1/me/devices/{token} -> login: 200 in 3 ms');
    expect(output.chunks.slice(-2)).toEqual(['\r\x1b[2K', 'PUT /v1/me/devices/{token} -> login: 200 in 3 ms\n']);
    view.stop();
  });
});
