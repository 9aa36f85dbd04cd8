import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DEFAULT_APPS } from '../../local/tpns-emulator/index.js';
import { runCliProcess, spawnCli } from './harness.js';

describe('tpns-accounts emulator', () => {
  it('runs the TPNS emulator in the foreground until SIGTERM, and the other commands work against it', async () => {
    const emulator = spawnCli(['emulator'], { TPNS_EMULATOR_PORT: '0' });
    try {
      let banner = '';
      emulator.stdout.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        emulator.stdout.on('data', (chunk: string) => {
          banner += chunk;
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(banner);
          if (match?.[1]) resolve(match[1]);
        });
        emulator.on('exit', (code) => reject(new Error(`emulator exited early (${code}): ${banner}`)));
      });

      // The banner's credentials are the local defaults: the same ones docs/cli.md tells operators to export.
      const env = {
        TPNS_ENDPOINT: url,
        TPNS_ANDROID_ACCESS_ID: DEFAULT_APPS.android.accessId,
        TPNS_ANDROID_SECRET_KEY: DEFAULT_APPS.android.secretKey,
        TPNS_IOS_ACCESS_ID: DEFAULT_APPS.ios.accessId,
        TPNS_IOS_SECRET_KEY: DEFAULT_APPS.ios.secretKey,
      };
      expect((await runCliProcess(['bind', '--token', 'emu-1', '--account', 'alice', '--platform', 'ios'], env)).code).toBe(0);
      const query = await runCliProcess(['query', '--account', 'alice', '--json'], env);
      expect(JSON.parse(query.stdout).accounts).toContainEqual({ platform: 'ios', account: 'alice', accountType: 0, tokens: ['emu-1'] });
    } finally {
      emulator.kill('SIGTERM');
      const [code] = (await once(emulator, 'exit')) as [number | null];
      expect(code).toBe(0);
    }
  });
});
