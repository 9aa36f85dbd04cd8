/** `query`: the current bindings of an account or a token, on every configured platform. */
import { Command, Option } from 'commander';
import type { AccountRef, TpnsAccountApi } from '../../lib/tpns/types.js';
import { UsageError } from '../exit.js';
import { accountTypeOption, jsonOption, parseAccount, parseToken } from '../options.js';
import { printJson, printTable } from '../output.js';
import type { Row } from '../output.js';
import { createTpnsClient, withTpnsFlags } from '../tpns.js';
import type { TpnsFlags } from '../tpns.js';

interface QueryOptions extends TpnsFlags {
  account?: string;
  token?: string;
  type?: number;
  json?: boolean;
}

/** Shown in a table cell where TPNS has nothing bound. */
const NONE = '(none)';

export function queryCommand(): Command {
  return withTpnsFlags(
    new Command('query')
      .description('show the tokens of an account, or the accounts of a token, on every configured platform')
      .addOption(new Option('--account <account>', 'account id').argParser(parseAccount).conflicts('token'))
      .addOption(new Option('--token <token>', 'device token').argParser(parseToken))
      .addOption(accountTypeOption().conflicts('token'))
      .addOption(jsonOption()),
  ).action(async (options: QueryOptions) => {
    if (options.account === undefined && options.token === undefined) throw new UsageError('query needs --account <id> or --token <token>');
    const client = await createTpnsClient(options);
    const json = options.json ?? false;
    if (options.account !== undefined) await queryAccount(client, { account: options.account, accountType: options.type ?? 0 }, json);
    else if (options.token !== undefined) await queryToken(client, options.token, json);
  });
}

async function queryAccount(client: TpnsAccountApi, ref: Required<AccountRef>, json: boolean): Promise<void> {
  const accounts = await Promise.all(
    client.platforms.map(async (platform) => {
      const [found] = await client.tokensOfAccounts(platform, [ref]);
      return { platform, ...ref, tokens: found?.tokens ?? [] };
    }),
  );
  if (json) return printJson({ accounts });
  const rows: Row[] = accounts.flatMap(({ platform, account, accountType, tokens }) =>
    (tokens.length > 0 ? tokens : [NONE]).map((token) => ({ platform, account, type: accountType, token })),
  );
  printTable(['platform', 'account', 'type', 'token'], rows);
}

async function queryToken(client: TpnsAccountApi, token: string, json: boolean): Promise<void> {
  const tokens = await Promise.all(
    client.platforms.map(async (platform) => {
      const [found] = await client.accountsOfTokens(platform, [token]);
      const accounts = (found?.accounts ?? []).map(({ account, accountType }) => ({ account, accountType: accountType ?? 0 }));
      return { platform, token, accounts };
    }),
  );
  if (json) return printJson({ tokens });
  const rows = tokens.flatMap(({ platform, accounts }): Row[] =>
    accounts.length > 0
      ? accounts.map(({ account, accountType }) => ({ platform, token, account, type: accountType }))
      : [{ platform, token, account: NONE, type: '' }],
  );
  printTable(['platform', 'token', 'account', 'type'], rows);
}
