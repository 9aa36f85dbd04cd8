/**
 * The worker's `schedule` event locally: EventBridge's scheduled event, delivered every
 * `rate(...)` of serverless.yml (the sweep, lib/worker/sweep.ts). Like EventBridge, a run that
 * fails is reported and the next one comes on time; runs never overlap.
 *
 * Why hand-written: serverless-offline, which runs schedule events, cannot host this function set
 * (docs/architecture.md, "Why local/ is hand-written"); this is a timer and one event.
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';

const LOCAL_RULE_ARN = 'arn:aws:events:us-east-1:000000000000:rule/local-sweep';

/** What an EventBridge `schedule` rule invokes its target with. */
export function scheduledEvent(at: Date = new Date()): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: at.toISOString(),
    region: process.env.AWS_REGION ?? 'us-east-1',
    resources: [LOCAL_RULE_ARN],
    detail: {},
  };
}

export interface Schedule {
  stop(): Promise<void>;
}

/** Calls `run` every `seconds` until stopped; stop() waits for a run under way. */
export function startSchedule(run: () => Promise<unknown>, seconds: number, onError: (error: unknown) => void): Schedule {
  let current: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    current ??= run()
      .catch(onError)
      .finally(() => (current = undefined));
  }, seconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
