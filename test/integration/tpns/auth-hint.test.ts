/** A TPNS authentication failure (1008003) says which app and which variables to check, never the secret. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TpnsAuthError } from '../../../lib/tpns/errors.js';
import { TpnsClient } from '../../../lib/tpns/client.js';
import { startTpnsEmulator } from '../../../local/tpns-emulator/index.js';
import type { TpnsEmulator } from '../../../local/tpns-emulator/index.js';

let emulator: TpnsEmulator;
beforeAll(async () => {
  emulator = await startTpnsEmulator();
});
afterAll(() => emulator.close());

describe('authentication failure', () => {
  it('names the platform and its credential variables', async () => {
    const secretKey = 'wrong-secret-key-0123456789abcdef';
    const client = new TpnsClient({ apps: { ios: { accessId: emulator.apps.ios.accessId, secretKey } }, endpoint: emulator.url });
    const failure = await client.bind('ios', [{ token: 'auth-hint-token', account: 'user-1' }]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TpnsAuthError);
    const { message } = failure as TpnsAuthError;
    expect(message).toMatch(/1008003/);
    expect(message).toContain('for the ios app: check TPNS_IOS_ACCESS_ID and TPNS_IOS_SECRET_KEY');
    expect(message).not.toContain(secretKey);
  });
});
