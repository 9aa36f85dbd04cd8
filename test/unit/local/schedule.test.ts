/** The local stand-in for the worker's EventBridge schedule (local/stack/schedule.ts). */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isScheduledEvent } from '../../../lib/worker/sweep.js';
import { scheduledEvent, startSchedule } from '../../../local/stack/schedule.js';

describe('scheduledEvent', () => {
  it('is what an EventBridge schedule rule delivers, and what the worker takes for a sweep', () => {
    const event = scheduledEvent(new Date('2026-12-01T10:00:00Z'));
    expect(event).toMatchObject({ source: 'aws.events', 'detail-type': 'Scheduled Event', time: '2026-12-01T10:00:00.000Z', detail: {} });
    expect(isScheduledEvent(event)).toBe(true);
    // Neither an SQS batch nor an account event is taken for one.
    expect(isScheduledEvent({ Records: [] })).toBe(false);
    expect(isScheduledEvent({ ...event, 'detail-type': 'account.login', source: 'my.app' })).toBe(false);
  });
});

describe('startSchedule', () => {
  it('runs at its rate, never two runs at once, reports a failed run and goes on', async () => {
    let running = 0;
    let overlapped = false;
    let runs = 0;
    const errors: unknown[] = [];
    const schedule = startSchedule(
      async () => {
        runs += 1;
        overlapped ||= running > 0;
        running += 1;
        await sleep(70); // longer than the rate: the next tick finds this run still going
        running -= 1;
        if (runs === 1) throw new Error('first run fails');
      },
      0.02,
      (error) => errors.push(error),
    );
    await expect.poll(() => runs, { timeout: 2_000, interval: 10 }).toBeGreaterThanOrEqual(3);
    await schedule.stop();
    expect(overlapped).toBe(false);
    expect(errors).toEqual([new Error('first run fails')]);
    // Stopped: no run starts any more, and the one under way had finished.
    const after = runs;
    expect(running).toBe(0);
    await sleep(100);
    expect(runs).toBe(after);
  });
});
