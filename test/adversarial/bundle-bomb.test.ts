import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleHeader, writeBundle } from '../../src-main/federation/bundle.ts';
import { HospitalIdentity } from '../../src-main/federation/identity.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { homopai, SAMPLE } from '../helpers/cli.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';
import { cli, refused } from './attacker.ts';

/*
 * Attack 7: a self-signed first bundle (any hospital name is new, so its key is pinned on first sight) carrying a
 * ciphertext that inflates to gigabytes: before, it was refused only after 12 s and 3.4 GB of RSS, in the process
 * whose WebAssembly heap never shrinks. Ciphertext bytes are now bounded before anything inflates them (SEAL's
 * header, the zstd frame's declared size, and a capped inflation for untrusted bytes) and loaded on a worker.
 */

/** SEAL's header (magic, size 16, version 4.1, zstd) in front of a zstd frame. */
function sealZstd(frame: Uint8Array): Uint8Array {
  const header = Buffer.alloc(16);
  header.writeUInt16LE(0xa15e, 0);
  header[2] = 16;
  header[3] = 4;
  header[4] = 1;
  header[5] = 2;
  header.writeBigUInt64LE(BigInt(16 + frame.length), 8);
  return Buffer.concat([header, frame]);
}

async function bombBundle(dir: string, keySet: string, ciphertext: Uint8Array, name: string): Promise<string> {
  const { identity } = await HospitalIdentity.open(join(dir, `${name}-identity`), name, PASSPHRASE);
  try {
    const header: BundleHeader = {
      format: 'homopai.bundle',
      bundleId: crypto.randomUUID(),
      createdAt: new Date().toISOString(),
      hospital: { name, signingKey: Buffer.from(identity.publicKey).toString('base64') },
      keySet: { fingerprint: keySet, preset: 'standard' },
      features: [{ name: 'temperature', unit: '°C' }],
      labeled: false,
      rows: 1,
      dropped: 0,
      blocks: [{ slots: 1, pseudonyms: ['0'.repeat(32)], labeled: [false], ciphertextBytes: [ciphertext.length] }],
      notes: [],
    };
    const path = join(dir, `${name}.bundle`);
    writeFileSync(path, writeBundle(header, [[ciphertext]], (data) => identity.sign(data)));
    return path;
  } finally {
    identity.lock();
  }
}

describe('attack 7: a decompression bomb in a first bundle', () => {
  const tmp = tempDir('homopai-attack-bomb-');
  const ws = join(tmp.dir, 'ws');
  let keySet = '';

  beforeAll(async () => {
    await cli(ws, ['init']);
    await cli(ws, ['import', SAMPLE]);
    using w = Workspace.open(ws);
    keySet = w.requireKeySet().fingerprint;
  });
  afterAll(() => tmp[Symbol.dispose]());

  it('refuses a ciphertext that declares it inflates to 64 MiB, and pins nothing', async () => {
    const frame = zstdCompressSync(Buffer.alloc(64 * 2 ** 20));
    const bundle = await bombBundle(tmp.dir, keySet, sealZstd(frame), 'H-BOMB');
    expect(statSync(bundle).size).toBeLessThan(64 * 1024);
    await refused(ws, ['import-bundle', bundle], /would inflate to 67108864 bytes, more than a ciphertext of these parameters \(528384\)/);
    const listed = await homopai(['audit', 'verify', '--workspace', ws, '--json']);
    expect(JSON.parse(listed.stdout)).toMatchObject({ ok: true });
    using w = Workspace.open(ws);
    expect(w.db.prepare('SELECT COUNT(*) FROM hospital_keys').pluck().get()).toBe(0);
    expect(w.db.prepare('SELECT COUNT(*) FROM batches').pluck().get()).toBe(1);
  });

  it('refuses one that lies about its size, inflating no further than a ciphertext may', async () => {
    const frame = Buffer.from(zstdCompressSync(Buffer.alloc(64 * 2 ** 20)));
    // Declare a plausible 512 KiB in the frame header: a 4-byte Frame_Content_Size after the descriptor and, when
    // the frame is not single-segment, its window byte (RFC 8878, 3.1.1.1).
    expect(frame[4]! >> 6).toBe(2);
    const singleSegment = (frame[4]! >> 5) & 1;
    frame.writeUInt32LE(512 * 1024, singleSegment ? 5 : 6);
    const bundle = await bombBundle(tmp.dir, keySet, sealZstd(frame), 'H-LIAR');
    await refused(ws, ['import-bundle', bundle], /does not inflate within 528384 bytes/);
  });
});
