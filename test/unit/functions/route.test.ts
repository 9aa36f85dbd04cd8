/** route(): the parts of a request, each checked by its schema, merged into the command's input. */
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { Runtime } from '../../../lib/config/runtime.js';
import { InvalidInputError } from '../../../lib/triggers/issues.js';
import { accountTypeParam, route } from '../../../functions/handler/http.js';

// The commands below never touch the runtime.
const runtime = {} as Runtime;
const meta = { correlationId: 'route-test' };
const echo = async (_runtime: Runtime, input: unknown) => ({ status: 200, body: input });

describe('route', () => {
  it('merges path, query and body, and the caller last on a user route: no part can name another account', async () => {
    const loose = route({ access: 'user', path: { token: z.string() }, query: { accountType: z.optional(accountTypeParam) }, body: z.looseObject({}), run: echo });
    const answer = await loose.answer(runtime, { account: 'jwt-user', path: { token: 't-1' }, query: { accountType: '3' }, body: { account: 'someone-else', platform: 'ios' } }, meta);
    expect(answer.body).toEqual({ account: 'jwt-user', token: 't-1', accountType: 3, platform: 'ios' });
    expect(loose.takesBody).toBe(true);
  });

  it('an admin route gets no caller account, and a bodyless route ignores any body', async () => {
    const admin = route({ access: 'admin', path: { account: z.string() }, run: echo });
    const answer = await admin.answer(runtime, { account: 'the-admin', path: { account: 'looked-up' }, query: {}, body: '{"x":1}' }, meta);
    expect(answer.body).toEqual({ account: 'looked-up' });
    expect(admin.takesBody).toBe(false);
  });

  it("checks a command's input type against the parts (tsc: each @ts-expect-error must be an error)", () => {
    const wants = <I>() => async (_runtime: Runtime, input: I) => ({ status: 200, body: input });
    // @ts-expect-error no part gives a token
    route({ access: 'user', run: wants<{ account: string; token: string }>() });
    // @ts-expect-error an admin route gets no caller account
    route({ access: 'admin', run: wants<{ account: string }>() });
    // @ts-expect-error the query's account type is a number
    route({ access: 'user', query: { accountType: accountTypeParam }, run: wants<{ account: string; accountType?: string }>() });
    const run = wants<{ account: string; token: string; accountType?: number }>();
    expect(route({ access: 'user', path: { token: z.string() }, query: { accountType: accountTypeParam }, run }).access).toBe('user');
  });

  it('names every bad field by its part', async () => {
    const strict = route({ access: 'user', path: { token: z.string().check(z.minLength(5)) }, body: z.strictObject({ platform: z.enum(['android', 'ios']) }), run: echo });
    const error: unknown = await strict.answer(runtime, { account: '', path: { token: 'x' }, query: {}, body: { platform: 'web', extra: 1 } }, meta).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues.map((issue) => issue.path).sort()).toEqual(['account', 'body.extra', 'body.platform', 'path.token']);
  });
});
