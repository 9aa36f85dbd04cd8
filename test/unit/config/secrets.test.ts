/**
 * SecretKeys from SSM SecureString parameters, read once per cold start. The SSM side is a tiny
 * HTTP server speaking SSM's JSON protocol, so the real AWS SDK client is exercised end to end.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/config.js';
import { createRuntime, getRuntime, resetRuntimeForTests } from '../../../lib/config/runtime.js';
import { resolveSecretKeys, SecretParameterError } from '../../../lib/config/secrets.js';

const parameters: Record<string, string> = {
  '/tpns/android-secret': 'android-secret-from-ssm',
  '/tpns/ios-secret': 'ios-secret-from-ssm',
  '/tpns/erasure-key': 'erasure-key-from-ssm',
};
const calls: { target: string; name: string; withDecryption: boolean }[] = [];

const ssm = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    const { Name, WithDecryption } = JSON.parse(body) as { Name: string; WithDecryption: boolean };
    calls.push({ target: String(req.headers['x-amz-target']), name: Name, withDecryption: WithDecryption });
    const value = parameters[Name];
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    if (value === undefined) {
      res.statusCode = 400;
      res.end(JSON.stringify({ __type: 'ParameterNotFound', message: `${Name} not found` }));
      return;
    }
    res.end(JSON.stringify({ Parameter: { Name, Type: 'SecureString', Value: value, Version: 1 } }));
  });
});

let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  await new Promise<void>((resolve) => ssm.listen(0, '127.0.0.1', resolve));
  // The SDK's credential chain reads the process environment, as it does in Lambda.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  env = {
    AWS_REGION: 'ap-east-1',
    AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${(ssm.address() as AddressInfo).port}`,
    TPNS_ENDPOINT: 'http://127.0.0.1:9',
    TPNS_ANDROID_ACCESS_ID: '1500000001',
    TPNS_ANDROID_SECRET_KEY_PARAM: '/tpns/android-secret',
    TPNS_IOS_ACCESS_ID: '1600000001',
    TPNS_IOS_SECRET_KEY_PARAM: '/tpns/ios-secret',
    // The runtime needs its table named; nothing here touches it.
    BINDINGS_TABLE: 'test-bindings',
  };
});
afterAll(() => new Promise<void>((resolve) => ssm.close(() => resolve())));
beforeEach(() => {
  calls.length = 0;
  resetRuntimeForTests();
});

describe('SSM SecureString secret keys', () => {
  it('reads both parameters with decryption into the TPNS_*_SECRET_KEY variables', async () => {
    const resolved = await resolveSecretKeys(env);
    expect(resolved.TPNS_ANDROID_SECRET_KEY).toBe('android-secret-from-ssm');
    expect(resolved.TPNS_IOS_SECRET_KEY).toBe('ios-secret-from-ssm');
    expect(calls.map((call) => [call.target, call.name, call.withDecryption]).sort()).toEqual([
      ['AmazonSSM.GetParameter', '/tpns/android-secret', true],
      ['AmazonSSM.GetParameter', '/tpns/ios-secret', true],
    ]);
  });

  it('reads them once per cold start: the runtime is cached across invocations', async () => {
    const first = await getRuntime(env);
    const second = await getRuntime(env);
    expect(second).toBe(first);
    expect(first.tpns.platforms).toEqual(['android', 'ios']);
    expect(calls).toHaveLength(2);
  });

  it('skips SSM for plain keys (local) and for platforms without an AccessId', async () => {
    const local = { ...env, TPNS_ANDROID_SECRET_KEY: 'plain', TPNS_IOS_ACCESS_ID: '' };
    expect(await resolveSecretKeys(local)).toBe(local);
    expect(calls).toHaveLength(0);
  });

  it('names a missing parameter (never a value) and does not cache the failure', async () => {
    const broken = { ...env, TPNS_IOS_SECRET_KEY_PARAM: '/tpns/missing' };
    await expect(getRuntime(broken)).rejects.toThrow(new SecretParameterError('Cannot read SSM parameter /tpns/missing: ParameterNotFound: /tpns/missing not found'));
    await expect(getRuntime(env)).resolves.toMatchObject({ settings: { accountClaim: 'sub', adminScope: 'tpns/admin' } });
  });

  it('reads ERASURE_KEY_PARAM into ERASURE_KEY, the key the ledger\'s tombstones are keyed with', async () => {
    const resolved = await resolveSecretKeys({ ...env, ERASURE_KEY_PARAM: '/tpns/erasure-key' });
    expect(resolved.ERASURE_KEY).toBe('erasure-key-from-ssm');
    expect(calls.map((call) => call.name)).toContain('/tpns/erasure-key');
    const fromParameter = createRuntime(await loadConfig({ ...env, ERASURE_KEY_PARAM: '/tpns/erasure-key' }));
    const plain = createRuntime(await loadConfig({ ...env, ERASURE_KEY: 'erasure-key-from-ssm' }));
    const other = createRuntime(await loadConfig({ ...env, ERASURE_KEY: 'another-key' }));
    const ref = { account: 'alice' };
    expect(fromParameter.ledger.digestOf(ref)).toBe(plain.ledger.digestOf(ref));
    expect(fromParameter.ledger.digestOf(ref)).not.toBe(other.ledger.digestOf(ref));
    expect(fromParameter.ledger.digestOf(ref)).not.toContain('alice');
  });

  it('a blank ERASURE_KEY counts as absent: the parameter is read, not skipped for the development key', async () => {
    const resolved = await resolveSecretKeys({ ...env, ERASURE_KEY: ' ', ERASURE_KEY_PARAM: '/tpns/erasure-key' });
    expect(resolved.ERASURE_KEY).toBe('erasure-key-from-ssm');
  });

  it('a plain ERASURE_KEY wins over the parameter (local runs), and is not read from SSM', async () => {
    const local = { ...env, TPNS_ANDROID_SECRET_KEY: 'plain', TPNS_IOS_ACCESS_ID: '', ERASURE_KEY: 'local-key', ERASURE_KEY_PARAM: '/tpns/missing' };
    expect(await resolveSecretKeys(local)).toBe(local);
    expect(calls).toHaveLength(0);
  });
});
