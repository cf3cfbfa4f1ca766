import { caller } from '../helpers/caller.ts';
import { describe, expect, it } from 'vitest';
import { wasmHeapBytes } from '../../src-main/ckks/seal.ts';
import { importCsv } from '../../src-main/services/import.ts';
import { createKeySet, KeyHolder } from '../../src-main/services/key-sets.ts';
import { predict } from '../../src-main/services/predict.ts';
import { samplePath } from '../../src-main/common/resources.ts';
import { decryptRun } from '../../src-main/services/predictions.ts';
import { registerModel } from '../../src-main/services/models.ts';
import { trainFromCsv } from '../../src-main/services/train.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { PassphraseVault } from '../../src-main/vault/passphrase.ts';
import { CkksPool } from '../../src-main/workers/pool.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

const RUNS = 100;
// RSS settles only after the allocator's arenas (main thread, workers, SQLite) have grown to their working size:
// here by run 40 to 60, so the runs compared start after that.
const WARM_UP = 60;
const SAMPLES = 25;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('memory over repeated pipelines', () => {
  it('keeps RSS and every WASM heap (main thread and workers) flat over 100 import -> predict -> decrypt runs', async () => {
    using tmp = tempDir();
    using ws = Workspace.open(tmp.dir);
    const vault = new PassphraseVault(tmp.dir, PASSPHRASE);
    await createKeySet(caller(ws), 'standard', () => vault);
    const holder = await KeyHolder.unlock(ws, vault);
    const model = await trainFromCsv(samplePath(), {});
    registerModel(caller(ws), model);
    const encryptors = new CkksPool('encryptor', 2);
    const evaluators = new CkksPool('evaluator', 2);
    const heaps = async (): Promise<number[]> => [await wasmHeapBytes(), ...(await encryptors.heapBytes()), ...(await evaluators.heapBytes())];
    try {
      const once = async (): Promise<void> => {
        const { batchId } = await importCsv(caller(ws), samplePath(), { duplicates: 'allow' }, {}, { holder, pool: encryptors });
        const run = await predict(caller(ws), { modelId: model.id, batchIds: [batchId], scaling: 'folded' }, {}, evaluators);
        expect(await decryptRun(caller(ws), holder, run.runId)).toHaveLength(19);
      };
      for (let i = 0; i < WARM_UP; i++) await once();
      const heapsBefore = await heaps();
      // RSS moves by a few MiB from run to run as arenas are reused: compare medians, not single readings.
      const rss: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        await once();
        rss.push(process.memoryUsage.rss());
      }
      const heapsAfter = await heaps();
      const rssBefore = median(rss.slice(0, SAMPLES));
      const rssAfter = median(rss.slice(-SAMPLES));
      // WebAssembly memory never shrinks: a ciphertext leaked per run (~0.4 MiB) would add 40 MiB here.
      heapsAfter.forEach((after, i) => expect(after).toBeLessThanOrEqual(heapsBefore[i]! * 1.05));
      expect(rssAfter).toBeLessThanOrEqual(rssBefore * 1.05);
    } finally {
      holder.lock();
      await Promise.all([encryptors.close(), evaluators.close()]);
    }
  });
});
