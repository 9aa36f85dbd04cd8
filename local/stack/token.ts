/**
 * `npm run --silent token -- <account> [--admin] [--expires-in 15m]`: prints a development JWT
 * for the local stack and nothing else, so `TOKEN=$(npm run --silent token -- alice)` works.
 * Bad usage: a message on stderr and exit code 2.
 *
 * Why hand-written: serverless-offline only decodes JWTs; the verification itself is jose's (docs/architecture.md, "Why local/ is hand-written").
 */
import { parseArgs } from 'node:util';
import { signDevToken } from './jwt.js';

const USAGE = 'usage: npm run --silent token -- <account> [--admin] [--expires-in <span, e.g. 15m, 2h>]';
/** TPNS refuses accounts shorter than 2 or longer than 100 characters; refuse them here too. */
const ACCOUNT_PATTERN = /^[^\p{Cc}]{2,100}$/u;
const TIME_SPAN_PATTERN = /^\d+\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days|w|week|weeks)$/;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv: string[]): { account: string; admin: boolean; expiresIn?: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        admin: { type: 'boolean', default: false },
        'expires-in': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (positionals.length !== 1) fail('expected exactly one <account>');
  const account = positionals[0] ?? '';
  if (!ACCOUNT_PATTERN.test(account)) fail('<account> must be 2-100 characters without control characters');
  const expiresIn = values['expires-in'];
  if (expiresIn !== undefined && !TIME_SPAN_PATTERN.test(expiresIn)) fail(`--expires-in: not a time span: ${expiresIn}`);
  return { account, admin: values.admin, ...(expiresIn === undefined ? {} : { expiresIn }) };
}

const { account, admin, expiresIn } = parse(process.argv.slice(2));
const token = await signDevToken(account, {
  admin,
  ...(expiresIn === undefined ? {} : { expiresIn }),
  // The same variables the running stack reads, so the token carries what its handlers expect.
  ...(process.env.ACCOUNT_CLAIM ? { accountClaim: process.env.ACCOUNT_CLAIM } : {}),
  ...(process.env.ADMIN_SCOPE ? { adminScope: process.env.ADMIN_SCOPE } : {}),
});
process.stdout.write(`${token}\n`);
