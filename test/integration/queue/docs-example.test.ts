/** docs/queue.md shows docs/examples/queue-example.ts verbatim; this runs it. */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { queueExample } from '../../../docs/examples/queue-example.js';

describe('docs/examples/queue-example.ts', () => {
  it('applies the good binding and dead-letters the refused token with its reason', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const { stats, boundTo, deadLetters } = await queueExample();
      expect(stats).toMatchObject({ received: 1, deleted: 1, failed: 0 });
      expect(boundTo).toEqual([{ account: 'alice', accountType: 0 }]);
      expect(deadLetters).toEqual([
        expect.objectContaining({
          type: 'dead-letter',
          reason: { code: '1008006', message: 'invalid token' },
          work: expect.objectContaining({ kind: 'bind', items: [{ token: 'bad-token', account: 'bob' }] }),
        }),
      ]);
    } finally {
      log.mockRestore();
    }
  });

  it('is included verbatim in docs/queue.md', () => {
    const doc = readFileSync(new URL('../../../docs/queue.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../../../docs/examples/queue-example.ts', import.meta.url), 'utf8');
    expect(doc).toContain(example.trim());
  });
});
