/**
 * The TPNS client against the emulator. Start `npm run emulator` in one terminal, then run
 * `npx tsx docs/examples/client-example.ts` (pass another emulator URL as the first argument).
 */
import { pathToFileURL } from 'node:url';
import { TpnsClient } from '../../lib/tpns/client.js';
import { TpnsError } from '../../lib/tpns/errors.js';
import { WORKER_RETRY_BUDGET_MS } from '../../lib/tpns/constants.js';

export async function clientExample(endpoint = 'http://127.0.0.1:4010') {
  const tpns = new TpnsClient({
    endpoint, // leave out to reach Tencent; pick the access point with `region` instead
    apps: {
      android: { accessId: '1500000001', secretKey: 'emulator-android-secret-key' },
      ios: { accessId: '1600000001', secretKey: 'emulator-ios-secret-key' },
    },
  });

  // Sign-in on two devices: each token now belongs to user-42 (op 2, overwrite).
  const signIn = await tpns.bind('android', [
    { token: 'android-token-1', account: 'user-42' },
    { token: 'android-token-2', account: 'user-42' },
  ]);
  console.log(`bound ${signIn.applied}, failed ${signIn.failed.length}, in ${signIn.calls} call(s)`);

  const [afterSignIn] = await tpns.tokensOfAccounts('android', [{ account: 'user-42' }]);
  console.log('tokens of user-42:', afterSignIn?.tokens);

  // Sign-out on one device (op 4); a queue worker can afford a longer retry budget.
  const signOut = await tpns.unbindTokens('android', ['android-token-1'], { retryBudgetMs: WORKER_RETRY_BUDGET_MS });
  const retryLater = signOut.failed.filter((failure) => failure.retryable); // queue exactly these
  console.log(`signed out, ${retryLater.length} to retry later`);

  // Account deletion must reach every app (op 5 on Android and iOS).
  for (const platform of tpns.platforms) await tpns.deleteAccounts(platform, [{ account: 'user-42' }]);
  const [afterDeletion] = await tpns.accountsOfTokens('android', ['android-token-2']);
  console.log('accounts of android-token-2:', afterDeletion?.accounts);

  // Bad input is refused before anything is sent, naming the item and the field.
  try {
    await tpns.bind('android', [{ token: 'has a space', account: 'user-42' }]);
  } catch (error) {
    if (!(error instanceof TpnsError)) throw error;
    console.log(`${error.name} ${error.code}: ${error.message}`);
  }

  return { signIn, afterSignIn, signOut, afterDeletion };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await clientExample(process.argv[2]);
