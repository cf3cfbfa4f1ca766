import { ColumnDecryptor } from '../ckks/decrypt.ts';
import { ColumnEncryptor } from '../ckks/encrypt.ts';
import { EncodedConstants } from '../ckks/encode.ts';
import { EvaluationKeys } from '../ckks/keys.ts';
import { loadCiphertext } from '../ckks/serialize.ts';
import type { CkksContext } from '../ckks/context.ts';
import { type EncryptedLrPlan, evaluateLogistic } from '../circuits/inference.ts';

/** What node-seal itself costs per block of slots, one thread, nothing around it (ms). */
export interface StageCosts {
  /** Encode + encrypt (seeded symmetric) + serialize one column. */
  encryptMs: number;
  /** Deserialize (zstd) one stored column. */
  loadMs: number;
  /** The exact-mode circuit with its constants already encoded, and the result serialized, per block. */
  circuitMs: number;
  /** Deserialize, decrypt and decode one result. */
  decryptMs: number;
}

/** A stage's floor for the whole run and how close the run came to it (floor / measured, 1 = at the limit). */
export interface StageLimit {
  limitMs: number;
  actualMs: number;
  efficiency: number;
}

export interface StageLimits {
  perBlock: StageCosts;
  encrypt: StageLimit;
  predict: StageLimit;
  decrypt: StageLimit;
}

const REPEATS = 12;

function median(fn: () => void): number {
  fn();
  const times = Array.from({ length: REPEATS }, () => {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  });
  return times.sort((a, b) => a - b)[REPEATS >> 1]!;
}

/** The bare per-block costs, measured in this thread on full columns of this context with the given keys. */
export function measureStageCosts(
  ctx: CkksContext,
  keys: { publicKey: Uint8Array; secretKey: Uint8Array; relinKeys: Uint8Array },
  plan: EncryptedLrPlan,
): StageCosts {
  using enc = new ColumnEncryptor(ctx, { mode: 'seeded-symmetric', publicKey: keys.publicKey, secretKey: keys.secretKey });
  using evalKeys = new EvaluationKeys(ctx, keys.relinKeys, null);
  using dec = new ColumnDecryptor(ctx, keys.secretKey);
  using constants = new EncodedConstants();
  const column = Float64Array.from({ length: ctx.slotCount }, (_, i) => ((i % 200) - 100) / 40);
  const features = plan.weights.map(() => enc.encrypt(column));
  const encryptMs = median(() => void enc.encrypt(column));
  const loadMs = median(() => loadCiphertext(ctx, features[0]!).delete());
  const evaluateMs = median(() => void evaluateLogistic(ctx, evalKeys, features, plan, constants));
  const result = evaluateLogistic(ctx, evalKeys, features, plan, constants).bytes;
  const decryptMs = median(() => void dec.decrypt(result, ctx.slotCount));
  return { encryptMs, loadMs, circuitMs: evaluateMs - features.length * loadMs, decryptMs };
}

/**
 * Each stage's floor for a run of `blocks` blocks: its node-seal work spread perfectly over `workers` threads
 * (decryption stays on the key holder's one thread by design). Everything above the floor is the product's
 * own: parsing, validation, messages between threads, SQLite, tags, waiting.
 */
export function stageLimits(
  costs: StageCosts,
  run: { blocks: number; columns: number; features: number; workers: number },
  actual: { importMs: number; predictMs: number; decryptMs: number },
): StageLimits {
  const limit = (limitMs: number, actualMs: number): StageLimit => ({ limitMs, actualMs, efficiency: limitMs / actualMs });
  const { blocks, columns, features, workers } = run;
  return {
    perBlock: costs,
    encrypt: limit((blocks * columns * costs.encryptMs) / workers, actual.importMs),
    predict: limit((blocks * (features * costs.loadMs + costs.circuitMs)) / workers, actual.predictMs),
    decrypt: limit(blocks * costs.decryptMs, actual.decryptMs),
  };
}
