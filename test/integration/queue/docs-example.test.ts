/** docs/queue.md shows docs/examples/queue-example.ts verbatim; this runs it. */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { queueExample } from '../../../docs/examples/queue-example.js';
import { resetRuntimeForTests } from '../../../lib/config/runtime.js';

describe('docs/examples/queue-example.ts', () => {
  it('queues both sign-ins while TPNS fails, then the worker pushes and verifies the good one and dead-letters the refused token with its reason', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    resetRuntimeForTests();
    try {
      const { answers, stats, boundTo, devices, deadLetters } = await queueExample();
      expect(answers).toEqual([
        { status: 202, body: { queued: 1, chunks: 1, applied: 0, failed: [] } },
        { status: 202, body: { queued: 1, chunks: 1, applied: 0, failed: [] } },
      ]);
      // Two pushes, then the read-back of the one TPNS took: nothing failed back to SQS.
      expect(stats).toMatchObject({ failed: 0, handlerErrors: 0 });
      expect(stats.received).toBeGreaterThanOrEqual(3);
      expect(boundTo).toEqual([{ account: 'alice', accountType: 0 }]);
      expect(devices).toEqual([{ platform: 'android', token: 'good-token', state: 'verified', since: expect.any(String) as string }]);
      expect(deadLetters).toEqual([
        expect.objectContaining({
          v: 2,
          type: 'dead-letter',
          reason: { code: '1008006', message: 'invalid token' },
          key: { kind: 'token', platform: 'android', token: 'bad-token' },
          source: expect.objectContaining({ correlationId: 'req-43' }) as unknown,
        }),
      ]);
    } finally {
      log.mockRestore();
      resetRuntimeForTests();
    }
  }, 20_000);

  it('is included verbatim in docs/queue.md', () => {
    const doc = readFileSync(new URL('../../../docs/queue.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../../../docs/examples/queue-example.ts', import.meta.url), 'utf8');
    expect(doc).toContain(example.trim());
  });
});
