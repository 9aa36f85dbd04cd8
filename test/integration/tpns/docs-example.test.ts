/** docs/client.md shows docs/examples/client-example.ts verbatim; this runs it against the emulator. */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { clientExample } from '../../../docs/examples/client-example.js';
import { useTpnsEmulator } from '../../support/use-stack.js';

const emulator = useTpnsEmulator();

describe('docs/examples/client-example.ts', () => {
  it('runs against the emulator with its default credentials and does what it says', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const { signIn, afterSignIn, signOut, afterDeletion } = await clientExample(emulator().url);
      expect(signIn).toMatchObject({ applied: 2, failed: [], calls: 1 });
      expect(afterSignIn?.tokens).toEqual(['android-token-1', 'android-token-2']);
      expect(signOut).toMatchObject({ applied: 1, failed: [] });
      expect(afterDeletion?.accounts).toEqual([]);
      expect(log.mock.calls.map((args) => String(args[0]))).toContainEqual(expect.stringMatching(/^TpnsValidationError VALIDATION: .*\[0\]\.token/));
    } finally {
      log.mockRestore();
    }
    expect(emulator().state('android').tokens).toEqual([]);
    // Account deletion reached both apps.
    expect(emulator().requests().filter((entry) => entry.operatorType === 5).map((entry) => entry.platform)).toEqual(['android', 'ios']);
  });

  it('is included verbatim in docs/client.md', () => {
    const doc = readFileSync(new URL('../../../docs/client.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../../../docs/examples/client-example.ts', import.meta.url), 'utf8');
    expect(doc).toContain(example.trim());
  });
});
