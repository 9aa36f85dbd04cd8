import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../../../lib/config/sdk-sha256.js';
import { lazySqsConnection } from '../../../lib/queue/sqs-connection.js';

const hex = async (hash: Sha256) => Buffer.from(await hash.digest()).toString('hex');
const hashOf = (data: string | Uint8Array, secret?: string | ArrayBuffer | Uint8Array) => {
  const hash = new Sha256(secret);
  hash.update(data);
  return hex(hash);
};

describe('the SDK clients\' SHA-256', () => {
  it('hashes as SHA-256 (FIPS 180-2 "abc")', async () => {
    expect(await hashOf('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('is HMAC-SHA256 with a secret: RFC 4231 test case 2 (string key) and 1 (binary key, as a view and an ArrayBuffer)', async () => {
    expect(await hashOf('what do ya want for nothing?', 'Jefe')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    const key = new Uint8Array(20).fill(0x0b);
    const case1 = 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7';
    expect(await hashOf('Hi There', key)).toBe(case1);
    expect(await hashOf('Hi There', key.buffer)).toBe(case1);
    // A view into a larger buffer keys with its own bytes only.
    const padded = new Uint8Array(40).fill(0xff);
    padded.set(key, 10);
    expect(await hashOf(new TextEncoder().encode('Hi There'), padded.subarray(10, 30))).toBe(case1);
  });

  it('derives the SigV4 signing key of AWS\'s documented example', async () => {
    // docs.aws.amazon.com, "Examples of how to derive a signing key for Signature Version 4".
    const hmac = async (key: string | Uint8Array, data: string) => {
      const hash = new Sha256(key);
      hash.update(data);
      return hash.digest();
    };
    let key = await hmac('AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215');
    for (const part of ['us-east-1', 'iam', 'aws4_request']) key = await hmac(key, part);
    expect(Buffer.from(key).toString('hex')).toBe('f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });

  it('signs the same as node:crypto with the raw key, whatever the key becomes afterwards', async () => {
    const key = new Uint8Array([1, 2, 3, 4]);
    const expected = createHmac('sha256', key).update('string to sign').digest('hex');
    const hmac = new Sha256(key);
    key.fill(0);
    hmac.update('string to sign');
    expect(await hex(hmac)).toBe(expected);
  });

  it('lets a plain hash go on after a digest, and reset starts over (the SDK\'s contract)', async () => {
    const hash = new Sha256();
    hash.update('a');
    const first = await hex(hash);
    hash.update('bc');
    expect(await hex(hash)).toBe(await hashOf('abc'));
    hash.reset();
    hash.update('a');
    expect(await hex(hash)).toBe(first);
  });

  it('is what the queue\'s SQS client signs with', async () => {
    const { client } = await lazySqsConnection({ endpoint: 'http://localhost:1' })();
    expect(client.config.sha256).toBe(Sha256);
  });
});
