/**
 * `npm run emulator`: the TPNS emulator standalone on 127.0.0.1 (port TPNS_EMULATOR_PORT or
 * 4010). Prints where it listens and the credentials in use — local dev defaults or the
 * TPNS_* values the user set, which is what a client must be given to talk to it.
 *
 * Why hand-written: nothing else emulates TPNS (docs/architecture.md, "Why local/ is hand-written").
 */
import { emulatorSettingsFromEnv, shownSecretKey, type EmulatorEnvSettings } from './config.js';
import { startTpnsEmulator, type TpnsEmulator } from './server.js';

/** The banner's apply line: the in-order delay, or the reordering window when it is on. */
function applyMode(settings: EmulatorEnvSettings): string {
  const window = settings.applyWindow;
  if (!window) return `propagation delay: ${settings.propagationDelayMs} ms`;
  const seed = window.seed === undefined ? '' : `, seed ${window.seed}`;
  return `apply window: ${window.minMs}-${window.maxMs} ms per task, out of order${seed}`;
}

function fail(message: string): void {
  console.error(`TPNS emulator: ${message}`);
  process.exitCode = 1;
}

const HELP = `npm run emulator: the TPNS account API emulator alone (docs/emulator.md).
With \`npm start\` running you do not need it: the stack already serves one on TPNS_EMULATOR_PORT (4010).

Environment:
  TPNS_EMULATOR_PORT                port (default 4010)
  TPNS_{ANDROID,IOS}_{ACCESS_ID,SECRET_KEY}   app credentials (default: the local ones, printed at start)
  TPNS_EMULATOR_PROPAGATION_MS      delay before a change is visible, in order
  TPNS_EMULATOR_APPLY_WINDOW_MS     MIN-MAX: each task applied after its own random delay (out of order)
  TPNS_EMULATOR_APPLY_SEED          seed of that randomness
  TPNS_EMULATOR_INVALID_TOKENS      tokens answered 1008006
`;

async function main(): Promise<void> {
  if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(HELP);
    return;
  }
  let settings: EmulatorEnvSettings;
  try {
    settings = emulatorSettingsFromEnv(process.env);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
    return;
  }

  let emulator: TpnsEmulator;
  try {
    emulator = await startTpnsEmulator({ host: '127.0.0.1', port: settings.port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`port ${settings.port} is already in use (set TPNS_EMULATOR_PORT to a free port)`);
    else fail(error instanceof Error ? error.message : String(error));
    return;
  }

  const { android, ios } = emulator.apps;
  console.log(`TPNS emulator listening on ${emulator.url}`);
  console.log(`  android app: AccessId ${android.accessId}  SecretKey ${shownSecretKey('android', android.secretKey)}`);
  console.log(`  ios app:     AccessId ${ios.accessId}  SecretKey ${shownSecretKey('ios', ios.secretKey)}`);
  console.log(`  ${applyMode(settings)}; invalid tokens: ${settings.invalidTokens.length}`);
  console.log(`  control API: ${emulator.url}/_emulator/health (docs/emulator.md); Ctrl+C stops`);

  const stop = (signal: NodeJS.Signals): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    emulator.close().then(
      () => console.log(`TPNS emulator stopped (${signal})`),
      (error: unknown) => fail(`could not close cleanly: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

await main();
