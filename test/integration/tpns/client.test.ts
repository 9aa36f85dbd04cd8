/** Every operation of the client against the real emulator over HTTP, checked in its state. */
import { describe, expect, it } from 'vitest';
import { TpnsAuthError, TpnsBadRequestError } from '../../../lib/tpns/errors.js';
import { callsTo, clientFor } from './emulator.js';
import { useTpnsEmulator } from '../../support/use-stack.js';

const emulator = useTpnsEmulator();

describe('operations change emulator state', () => {
  it('bind (op 2) binds each token to its account, overwriting the previous owner', async () => {
    const { tpns } = clientFor(emulator());
    await tpns.bind('android', [{ token: 'tok-1', account: 'previous-owner' }]);
    const result = await tpns.bind('android', [
      { token: 'tok-1', account: 'alice' },
      { token: 'tok-2', account: 'alice' },
      { token: 'tok-3', account: 'bob', accountType: 1002 },
    ]);
    expect(result).toMatchObject({ applied: 3, failed: [], calls: 1 });
    expect(result.outcomes.map(({ index, token, ok, code }) => ({ index, token, ok, code }))).toEqual([
      { index: 0, token: 'tok-1', ok: true, code: '0' },
      { index: 1, token: 'tok-2', ok: true, code: '0' },
      { index: 2, token: 'tok-3', ok: true, code: '0' },
    ]);
    expect(emulator().accountsOf('android', 'tok-1')).toEqual([{ account: 'alice', accountType: 0 }]);
    expect(emulator().tokensOf('android', 'alice')).toEqual(['tok-1', 'tok-2']);
    expect(emulator().accountsOf('android', 'tok-3')).toEqual([{ account: 'bob', accountType: 1002 }]);
    expect(callsTo(emulator(), 'batchoperate').at(-1)?.body).toMatchObject({ operator_type: 2, platform: 'android' });
  });

  it('bind merges one token repeated in the input: types combine, the last of a type wins', async () => {
    const { tpns } = clientFor(emulator());
    const result = await tpns.bind('android', [
      { token: 'tok-dup', account: 'first-user' },
      { token: 'tok-dup', account: '+8613800000000', accountType: 1002 },
      { token: 'tok-dup', account: 'second-user' },
    ]);
    expect(result.applied).toBe(3);
    expect(result.outcomes[0]?.message).toMatch(/superseded by item 2/);
    const sent = callsTo(emulator(), 'batchoperate');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.items).toBe(1);
    expect(emulator().accountsOf('android', 'tok-dup')).toEqual(
      expect.arrayContaining([
        { account: 'second-user', accountType: 0 },
        { account: '+8613800000000', accountType: 1002 },
      ]),
    );
    expect(emulator().accountsOf('android', 'tok-dup')).toHaveLength(2);
  });

  it('removeAccounts (op 3) removes only the listed accounts', async () => {
    const { tpns } = clientFor(emulator());
    await tpns.bind('android', [
      { token: 'tok-r', account: 'carol' },
      { token: 'tok-r', account: '+8613900000000', accountType: 1002 },
    ]);
    const result = await tpns.removeAccounts('android', [{ token: 'tok-r', accounts: [{ account: '+8613900000000', accountType: 1002 }] }]);
    expect(result).toMatchObject({ applied: 1, failed: [] });
    expect(emulator().accountsOf('android', 'tok-r')).toEqual([{ account: 'carol', accountType: 0 }]);
  });

  it('unbindTokens (op 4) removes every account from each token', async () => {
    const { tpns } = clientFor(emulator());
    await tpns.bind('android', [
      { token: 'tok-u', account: 'dave' },
      { token: 'tok-u', account: 'dave@example.com', accountType: 1005 },
      { token: 'tok-keep', account: 'dave' },
    ]);
    const result = await tpns.unbindTokens('android', ['tok-u']);
    expect(result.outcomes).toEqual([{ index: 0, token: 'tok-u', ok: true, code: '0', message: 'ok', retryable: false }]);
    expect(emulator().accountsOf('android', 'tok-u')).toEqual([]);
    expect(emulator().tokensOf('android', 'dave')).toEqual(['tok-keep']);
  });

  it('deleteAccounts (op 5) removes every token from each account', async () => {
    const { tpns } = clientFor(emulator());
    await tpns.bind('android', [
      { token: 'tok-d1', account: 'erin' },
      { token: 'tok-d2', account: 'erin' },
      { token: 'tok-d3', account: 'frank' },
    ]);
    const result = await tpns.deleteAccounts('android', [{ account: 'erin' }]);
    expect(result.outcomes).toEqual([{ index: 0, account: 'erin', ok: true, code: '0', message: 'ok', retryable: false }]);
    expect(emulator().tokensOf('android', 'erin')).toEqual([]);
    expect(emulator().tokensOf('android', 'frank')).toEqual(['tok-d3']);
  });

  it('tokensOfAccounts (query op 1) answers every account in input order, [] when unknown', async () => {
    const { tpns } = clientFor(emulator());
    await tpns.bind('android', [
      { token: 'tok-q1', account: 'gina' },
      { token: 'tok-q2', account: 'gina' },
      { token: 'tok-q3', account: 'gina-phone', accountType: 1002 },
    ]);
    expect(
      await tpns.tokensOfAccounts('android', [{ account: 'nobody' }, { account: 'gina' }, { account: 'gina-phone', accountType: 1002 }]),
    ).toEqual([
      { account: 'nobody', tokens: [] },
      { account: 'gina', tokens: ['tok-q1', 'tok-q2'] },
      { account: 'gina-phone', accountType: 1002, tokens: ['tok-q3'] },
    ]);
  });

  it('accountsOfTokens (query op 2) answers every token in input order, [] when unknown', async () => {
    const { tpns } = clientFor(emulator());
    await tpns.bind('android', [
      { token: 'tok-a1', account: 'hank' },
      { token: 'tok-a1', account: 'hank@example.com', accountType: 1005 },
    ]);
    const answer = await tpns.accountsOfTokens('android', ['tok-unknown', 'tok-a1']);
    expect(answer[0]).toEqual({ token: 'tok-unknown', accounts: [] });
    expect(answer[1]?.token).toBe('tok-a1');
    expect(answer[1]?.accounts).toEqual(
      expect.arrayContaining([
        { account: 'hank', accountType: 0 },
        { account: 'hank@example.com', accountType: 1005 },
      ]),
    );
  });

  it('a query where nothing exists (10110008) is an empty answer, not an error', async () => {
    const { tpns } = clientFor(emulator());
    expect(await tpns.accountsOfTokens('android', ['tok-none-1', 'tok-none-2'])).toEqual([
      { token: 'tok-none-1', accounts: [] },
      { token: 'tok-none-2', accounts: [] },
    ]);
    expect(callsTo(emulator(), 'query')[0]?.retCode).toBe(10110008);
  });

  it('keeps the two apps apart: iOS calls are signed with the iOS pair and change only iOS state', async () => {
    const { tpns } = clientFor(emulator());
    await tpns.bind('ios', [{ token: 'ios-tok', account: 'ivy' }]);
    expect(emulator().accountsOf('ios', 'ios-tok')).toEqual([{ account: 'ivy', accountType: 0 }]);
    expect(emulator().accountsOf('android', 'ios-tok')).toEqual([]);
    expect(emulator().requests().at(-1)).toMatchObject({ platform: 'ios', auth: 'sign' });
  });

  it('Basic auth works too', async () => {
    const { tpns } = clientFor(emulator(), { auth: 'basic' });
    await tpns.bind('android', [{ token: 'tok-basic', account: 'judy' }]);
    expect(emulator().accountsOf('android', 'tok-basic')).toEqual([{ account: 'judy', accountType: 0 }]);
    expect(emulator().requests().at(-1)).toMatchObject({ auth: 'basic' });
  });
});

describe('failures', () => {
  it('an invalid token fails alone with 1008006; the others are applied; nothing is retried', async () => {
    emulator().setInvalidTokens(['tok-invalid']);
    const { tpns } = clientFor(emulator());
    const result = await tpns.bind('android', [
      { token: 'tok-fine-1', account: 'kim' },
      { token: 'tok-invalid', account: 'kim' },
      { token: 'tok-fine-2', account: 'kim' },
    ]);
    expect(result.applied).toBe(2);
    expect(result.failed).toEqual([{ token: 'tok-invalid', code: '1008006', message: 'invalid token', retryable: false }]);
    expect(result.outcomes[1]).toMatchObject({ index: 1, token: 'tok-invalid', ok: false, code: '1008006', retryable: false });
    expect(result.calls).toBe(1);
    expect(emulator().tokensOf('android', 'kim')).toEqual(['tok-fine-1', 'tok-fine-2']);
    expect(callsTo(emulator(), 'batchoperate')).toHaveLength(1);
  });

  it('a wrong SecretKey throws TpnsAuthError after exactly one request, and the message hides the key', async () => {
    const wrongSecret = 'wrong-secret-that-must-not-leak';
    const { tpns } = clientFor(emulator(), { apps: { android: { accessId: emulator().apps.android.accessId, secretKey: wrongSecret } } });
    const error = await tpns.bind('android', [{ token: 'tok-auth', account: 'leo' }]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TpnsAuthError);
    expect(error).toMatchObject({ code: '1008003', httpStatus: 401, retryable: false });
    expect(String(error)).not.toContain(wrongSecret);
    expect(JSON.stringify(error)).not.toContain(wrongSecret);
    expect(emulator().requests()).toHaveLength(1);
    expect(emulator().accountsOf('android', 'tok-auth')).toEqual([]);
  });

  it('a request TPNS refuses (1008007: platform signed by the other app) throws and is never retried', async () => {
    const { tpns } = clientFor(emulator(), { apps: { android: emulator().apps.ios } });
    const error = await tpns.unbindTokens('android', ['tok-x']).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TpnsBadRequestError);
    expect(error).toMatchObject({ code: '1008007', retryable: false });
    expect(emulator().requests()).toHaveLength(1);
  });

  it('a wrong endpoint path (HTTP 404) is permanent and never retried', async () => {
    const { tpns, events } = clientFor(emulator(), { endpoint: `${emulator().url}/not-tpns` });
    const error = await tpns.accountsOfTokens('android', ['tok']).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TpnsBadRequestError);
    expect(error).toMatchObject({ httpStatus: 404, retryable: false });
    // The emulator logs API paths only, so count what the client sent.
    expect(events.filter((event) => event.type === 'request')).toHaveLength(1);
  });

  it('events carry no secret, no body and no token', async () => {
    const { tpns, events } = clientFor(emulator());
    await tpns.bind('android', [{ token: 'tok-private-value', account: 'private-account' }]);
    expect(events.map((event) => event.type)).toEqual(['request', 'response']);
    expect(events[1]).toMatchObject({ httpStatus: 200, retCode: '0', operatorType: 2, items: 1 });
    const text = JSON.stringify(events);
    for (const hidden of [emulator().apps.android.secretKey, 'tok-private-value', 'private-account']) expect(text).not.toContain(hidden);
  });
});
