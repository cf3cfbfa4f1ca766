import { caller } from '../helpers/caller.ts';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { importCsv } from '../../src-main/services/import.ts';
import { createKeySet, KeyHolder } from '../../src-main/services/key-sets.ts';
import { predict } from '../../src-main/services/predict.ts';
import { samplePath } from '../../src-main/common/resources.ts';
import { registerModel } from '../../src-main/services/models.ts';
import { trainFromCsv } from '../../src-main/services/train.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { CkksPool } from '../../src-main/workers/pool.ts';
import type { WorkerRequest } from '../../src-main/workers/protocol.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

/** Every byte array inside a message, however deeply nested. */
function byteArrays(value: unknown, out: Uint8Array[] = []): Uint8Array[] {
  if (ArrayBuffer.isView(value)) out.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  else if (value instanceof ArrayBuffer) out.push(new Uint8Array(value));
  else if (value && typeof value === 'object') for (const v of Object.values(value)) byteArrays(v, out);
  return out;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(Buffer.from(needle));
}

afterEach(() => vi.restoreAllMocks());

describe('the evaluator never holds the secret key', () => {
  it('sends evaluator workers only relinearization keys, ciphertexts and the public plan', async () => {
    using tmp = tempDir();
    using ws = Workspace.open(tmp.dir);
    const vault = new PassphraseVault(tmp.dir, PASSPHRASE);
    await createKeySet(caller(ws), 'standard', () => vault);
    const holder = await KeyHolder.unlock(ws, vault);
    const { batchId } = await importCsv(caller(ws), samplePath(), {}, {}, { holder });
    const model = await trainFromCsv(samplePath(), {});
    registerModel(caller(ws), model);
    const secret = holder.secretKey();

    const sent: WorkerRequest[] = [];
    const post = Worker.prototype.postMessage;
    vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, message: unknown, transfer?: Parameters<Worker['postMessage']>[1]) {
      // A copy, taken before the message moves its buffers to the worker (a prediction's blocks do).
      sent.push(structuredClone(message) as WorkerRequest);
      post.call(this, message, transfer);
    });
    const evaluators = new CkksPool('evaluator', 2);
    try {
      await predict(caller(ws), { modelId: model.id, batchIds: [batchId], scaling: 'folded' }, {}, evaluators);
    } finally {
      await evaluators.close();
    }
    expect(sent.length).toBeGreaterThan(0);
    expect(new Set(sent.map((m) => m.op))).toEqual(new Set(['load-evaluation-keys', 'evaluate']));
    // The search itself works: the same scan finds the secret key in a message that carries it.
    expect(byteArrays({ key: { secretKey: secret } }).some((b) => contains(b, secret))).toBe(true);
    expect(sent.flatMap((m) => byteArrays(m)).filter((b) => contains(b, secret))).toEqual([]);
    holder.lock();
  });

  it('refuses an encryption key (which could carry the secret key) in an evaluator worker', async () => {
    using tmp = tempDir();
    using ws = Workspace.open(tmp.dir);
    const vault = new PassphraseVault(tmp.dir, PASSPHRASE);
    await createKeySet(caller(ws), 'standard', () => vault);
    const holder = await KeyHolder.unlock(ws, vault);
    const evaluators = new CkksPool('evaluator', 1);
    try {
      const keySet = ws.requireKeySet();
      const key = { mode: 'seeded-symmetric' as const, publicKey: keySet.publicKey, secretKey: holder.secretKey() };
      await expect(evaluators.encrypt({ preset: 'standard', keyId: 'k', key }, [new Float64Array(4)])).rejects.toThrow(
        /evaluator worker never takes an encryption key/,
      );
    } finally {
      holder.lock();
      await evaluators.close();
    }
  });
});
