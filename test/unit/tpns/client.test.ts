/**
 * What the client decides before any network call. The endpoint is a closed local port, and the
 * `request` events prove nothing was sent; behaviour over HTTP is tested against the emulator in
 * test/integration/tpns/.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TpnsClient } from '../../../lib/tpns/client.js';
import { TpnsPlatformNotConfiguredError, TpnsValidationError } from '../../../lib/tpns/errors.js';
import type { Platform, TpnsClientEvent } from '../../../lib/tpns/types.js';

const SECRET = 'never-show-this-secret-0123456789';

function client() {
  const events: TpnsClientEvent[] = [];
  const tpns = new TpnsClient({
    apps: { android: { accessId: '1500000001', secretKey: SECRET } },
    endpoint: 'http://127.0.0.1:9',
    onEvent: (event) => events.push(event),
  });
  return { tpns, events };
}

describe('TpnsClient before the network', () => {
  it('lists the configured platforms', () => {
    expect(client().tpns.platforms).toEqual(['android']);
  });

  it('never exposes the SecretKey through JSON, toString or inspect', () => {
    const { tpns } = client();
    expect(JSON.stringify(tpns)).not.toContain(SECRET);
    expect(String(tpns)).not.toContain(SECRET);
    expect(inspect(tpns, { depth: 10, showHidden: true })).not.toContain(SECRET);
    expect(Object.values(tpns).map(String).join()).not.toContain(SECRET);
  });

  it('refuses a bad item with its index and sends nothing', async () => {
    const { tpns, events } = client();
    const bindings = [
      { token: 'good-token', account: 'alice' },
      { token: 'good-token-2', account: 'x' },
    ];
    const error = await tpns.bind('android', bindings).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TpnsValidationError);
    expect((error as TpnsValidationError).issues).toEqual([{ index: 1, path: 'account', message: 'must be at least 2 characters' }]);
    expect(events).toEqual([]);
  });

  it.each([
    ['removeAccounts', (t: TpnsClient) => t.removeAccounts('android', [{ token: 'tok', accounts: [] }])],
    ['unbindTokens', (t: TpnsClient) => t.unbindTokens('android', ['tok', 'with space'])],
    ['deleteAccounts', (t: TpnsClient) => t.deleteAccounts('android', [{ account: 'alice', accountType: -1 }])],
    ['tokensOfAccounts', (t: TpnsClient) => t.tokensOfAccounts('android', [{ account: 'a\u0000b' }])],
    ['accountsOfTokens', (t: TpnsClient) => t.accountsOfTokens('android', ['x'.repeat(65)])],
    ['an unknown platform', (t: TpnsClient) => t.unbindTokens('web' as Platform, ['tok'])],
  ])('%s: invalid input throws TpnsValidationError and sends nothing', async (_name, call) => {
    const { tpns, events } = client();
    await expect(call(tpns)).rejects.toThrow(TpnsValidationError);
    expect(events).toEqual([]);
  });

  it('a platform without credentials throws TpnsPlatformNotConfiguredError and sends nothing', async () => {
    const { tpns, events } = client();
    const error = await tpns.unbindTokens('ios', ['tok']).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TpnsPlatformNotConfiguredError);
    expect((error as TpnsPlatformNotConfiguredError).platform).toBe('ios');
    expect(events).toEqual([]);
  });

  it('an empty input makes no call', async () => {
    const { tpns, events } = client();
    expect(await tpns.bind('android', [])).toEqual({ applied: 0, failed: [], outcomes: [], calls: 0 });
    expect(await tpns.accountsOfTokens('android', [])).toEqual([]);
    expect(events).toEqual([]);
  });
});
