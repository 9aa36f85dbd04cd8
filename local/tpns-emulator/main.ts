/**
 * `npm run emulator`: the TPNS emulator standalone on 127.0.0.1 (port TPNS_EMULATOR_PORT or
 * 4010). Prints where it listens and the credentials in use — local dev defaults or the
 * TPNS_* values the user set, which is what a client must be given to talk to it.
 */
import { emulatorSettingsFromEnv, type EmulatorEnvSettings } from './config.js';
import { startTpnsEmulator, type TpnsEmulator } from './server.js';

function fail(message: string): void {
  console.error(`TPNS emulator: ${message}`);
  process.exitCode = 1;
}

async function main(): Promise<void> {
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
  console.log(`  android app: AccessId ${android.accessId}  SecretKey ${android.secretKey}`);
  console.log(`  ios app:     AccessId ${ios.accessId}  SecretKey ${ios.secretKey}`);
  console.log(`  propagation delay: ${settings.propagationDelayMs} ms; invalid tokens: ${settings.invalidTokens.length}`);
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
