/**
 * Which stored batches a model can score and which can be pooled for training: one rule, applied by the
 * services before any SEAL call and by the renderer to disable, with the reason, what the services would refuse.
 * Pure functions over the contract's shapes (no Node, no DOM).
 */

interface HasFeatures {
  features: readonly { name: string }[];
}

interface StoredBatch extends HasFeatures {
  keyFingerprint: string;
  integrity: 'ok' | 'damaged';
}

/** The model's features a batch does not hold (by name): none when the model can score it. */
export function missingFeatures(model: HasFeatures, batch: HasFeatures): string[] {
  const have = new Set(batch.features.map((f) => f.name));
  return model.features.map((f) => f.name).filter((name) => !have.has(name));
}

/** Feature names in a canonical order: batches pool when these are equal. */
export function featureSet(batch: HasFeatures): string {
  return batch.features
    .map((f) => f.name)
    .sort()
    .join(', ');
}

/** Why a batch cannot be used under the active key set at all, or null. */
export function whyNotUsable(batch: StoredBatch, activeKey: string | null): string | null {
  if (activeKey !== null && batch.keyFingerprint !== activeKey) return 'encrypted under another key set';
  if (batch.integrity !== 'ok') return 'failed its integrity check';
  return null;
}

/** Why a model cannot score a batch, or null. */
export function whyNotScorable(batch: StoredBatch, model: HasFeatures | null, activeKey: string | null): string | null {
  const unusable = whyNotUsable(batch, activeKey);
  if (unusable !== null || model === null) return unusable;
  const missing = missingFeatures(model, batch);
  return missing.length === 0 ? null : `lacks the model's ${missing.length === 1 ? 'feature' : 'features'} ${missing.join(', ')}`;
}

/** Why a batch cannot be pooled with the batches already chosen (which share one feature set), or null. */
export function whyNotPoolable(batch: StoredBatch, chosen: readonly HasFeatures[], activeKey: string | null): string | null {
  const unusable = whyNotUsable(batch, activeKey);
  if (unusable !== null || chosen.length === 0) return unusable;
  const theirs = featureSet(chosen[0]!);
  return featureSet(batch) === theirs ? null : `its features differ from the chosen batches' (${theirs})`;
}

/**
 * The batches to offer first for pooling: the largest group (by patients) sharing one feature set, among the
 * usable ones. Pre-selecting every batch would pool batches the service refuses to pool.
 */
export function largestPool<B extends StoredBatch & { rows: number }>(batches: readonly B[], activeKey: string | null): B[] {
  const groups = new Map<string, B[]>();
  for (const b of batches) {
    if (whyNotUsable(b, activeKey) !== null) continue;
    const key = featureSet(b);
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  const size = (g: B[]) => g.reduce((s, b) => s + b.rows, 0);
  return [...groups.values()].sort((a, b) => size(b) - size(a))[0] ?? [];
}
