/** A change accepted by batchoperate becomes visible only after the propagation delay. */
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { BATCH, QUERY, bindBody, send } from './tpns-http.js';
import { useTpnsEmulator } from '../../support/use-stack.js';

const DELAY_MS = 300;
const emulator = useTpnsEmulator({ propagationDelayMs: DELAY_MS });

describe('propagation delay', () => {
  it('op 2 is answered at once but visible (state and query) only after the delay', async () => {
    expect((await send(emulator(), BATCH, bindBody('android', [['tok-p', 'paula']]))).json).toMatchObject({ ret_code: 0, result: ['0'] });
    expect(emulator().accountsOf('android', 'tok-p')).toEqual([]);
    expect(emulator().state('android').pending).toBe(1);
    expect((await send(emulator(), QUERY, { operator_type: 2, token_list: ['tok-p'] })).json).toMatchObject({ retCode: 10110008 });

    await sleep(DELAY_MS + 50);
    expect(emulator().accountsOf('android', 'tok-p')).toEqual([{ account: 'paula', accountType: 0 }]);
    expect(emulator().state('android').pending).toBe(0);
    expect((await send(emulator(), QUERY, { operator_type: 2, token_list: ['tok-p'] })).json).toMatchObject({ retCode: 0 });
  });

  it('changes become visible in the order they were accepted (bind then unbind ends unbound)', async () => {
    await send(emulator(), BATCH, bindBody('android', [['tok-q', 'quinn']]));
    await send(emulator(), BATCH, { operator_type: 4, platform: 'android', token_list: ['tok-q'] });
    expect(emulator().state('android').pending).toBe(2);
    await sleep(DELAY_MS + 50);
    expect(emulator().accountsOf('android', 'tok-q')).toEqual([]);
    expect(emulator().tokensOf('android', 'quinn')).toEqual([]);
  });

  it('the delay can be changed at run time; 0 applies at once', async () => {
    emulator().setPropagationDelay(0);
    await send(emulator(), BATCH, bindBody('android', [['tok-z', 'zed']]));
    expect(emulator().accountsOf('android', 'tok-z')).toEqual([{ account: 'zed', accountType: 0 }]);
  });

  it('a zero-delay change waits behind earlier delayed ones so order is kept', async () => {
    await send(emulator(), BATCH, bindBody('android', [['tok-o', 'first']]));
    emulator().setPropagationDelay(0);
    await send(emulator(), BATCH, { operator_type: 4, platform: 'android', token_list: ['tok-o'] });
    await sleep(DELAY_MS + 50);
    expect(emulator().accountsOf('android', 'tok-o')).toEqual([]);
  });
});
