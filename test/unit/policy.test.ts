import { describe, expect, it } from 'vitest';
import type { SlotSumBytes } from '../../src-main/ckks/rotate.ts';
import { type DecryptionRequest, permits } from '../../src-main/services/policy.ts';
import type { PredictionRun } from '../../src-main/store/predictions.ts';
import { cohortTotal, type Provenance, type StoredTagged, type TaggedCiphertext } from '../../src-main/services/provenance.ts';

const run: PredictionRun = { id: 7, modelId: 'm', modelSha256: '', keyFingerprint: 'f', scaling: 'folded', sigmoid: 'exact', batchIds: [1, 2], patients: 40, createdAt: '' };

function ct(provenance: Provenance, kind: StoredTagged['kind'], batchId = 1): StoredTagged {
  return { provenance, kind, batchId, block: 0, slots: 20, bytes: new Uint8Array() };
}

describe('the provenance rule of the decryption policy', () => {
  const prediction = ct('evaluator-output', 'prediction');
  const vital = ct('input', 'feature');
  const label = ct('input', 'label');
  const labelOfAnotherBatch = ct('input', 'label', 3);
  // The policy decides on the tag alone; real slot-sum bytes would need a SEAL context.
  const total = cohortTotal(new Uint8Array() as SlotSumBytes);
  // A stored input relabelled as an output must still be refused: the rule checks kind and provenance.
  const inputPassedOffAsPrediction = ct('input', 'prediction');
  // And the converse: outputs claiming an input's kind, and a stored input claiming to be a cohort total.
  const outputPassedOffAsLabel = ct('evaluator-output', 'label');
  const outputPassedOffAsVital = ct('evaluator-output', 'feature');
  const inputPassedOffAsTotal = { ...total, provenance: 'input' } as unknown as TaggedCiphertext;
  const forged = [outputPassedOffAsLabel, outputPassedOffAsVital, inputPassedOffAsTotal];
  const cases: [DecryptionRequest, TaggedCiphertext[], TaggedCiphertext[]][] = [
    // request, allowed, refused
    [{ purpose: 'predictions', run }, [prediction], [vital, label, labelOfAnotherBatch, total, inputPassedOffAsPrediction, ...forged]],
    [{ purpose: 'aggregates', run }, [prediction, label], [vital, labelOfAnotherBatch, total, inputPassedOffAsPrediction, ...forged]],
    [
      { purpose: 'cohort-totals', what: 'aggregated-gradient', batchIds: [1, 2] },
      [total],
      [prediction, vital, label, labelOfAnotherBatch, inputPassedOffAsPrediction, ...forged],
    ],
    [
      { purpose: 'training-metrics', batchIds: [1, 2], epoch: 1 },
      [prediction, label],
      [vital, labelOfAnotherBatch, total, inputPassedOffAsPrediction, ct('evaluator-output', 'prediction', 3), ...forged],
    ],
    [{ purpose: 'stored-input', requested: 1, ciphertexts: [] }, [], [prediction, vital, label, labelOfAnotherBatch, total, ...forged]],
  ];

  it.each(cases.map((c) => [c[0].purpose, ...c] as const))('allows exactly what its purpose needs: %s', (_purpose, request, allowed, refused) => {
    for (const c of allowed) expect(permits(request, c), `${c.provenance} ${c.kind}`).toBe(true);
    for (const c of refused) expect(permits(request, c), `${c.provenance} ${c.kind}`).toBe(false);
  });
});
