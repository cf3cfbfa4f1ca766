import { describe, expect, it } from 'vitest';
import { type DecryptionRequest, permits } from '../../src-main/services/policy.ts';
import type { PredictionRun } from '../../src-main/store/predictions.ts';
import type { Provenance, TaggedCiphertext } from '../../src-main/store/provenance.ts';

const run: PredictionRun = { id: 7, modelId: 'm', keyFingerprint: 'f', scaling: 'folded', batchIds: [1, 2], patients: 40, createdAt: '' };

function ct(provenance: Provenance, kind: TaggedCiphertext['kind'], batchId = 1): TaggedCiphertext {
  return { provenance, kind, batchId, block: 0, slots: 20, bytes: new Uint8Array() };
}

describe('the provenance rule of the decryption policy', () => {
  const prediction = ct('evaluator-output', 'prediction');
  const vital = ct('input', 'feature');
  const label = ct('input', 'label');
  const labelOfAnotherBatch = ct('input', 'label', 3);
  const cases: [DecryptionRequest, TaggedCiphertext[], TaggedCiphertext[]][] = [
    // request, allowed, refused
    [{ purpose: 'predictions', run }, [prediction], [vital, label, labelOfAnotherBatch]],
    [{ purpose: 'aggregates', run }, [prediction, label], [vital, labelOfAnotherBatch]],
    [{ purpose: 'stored-input', requested: 1, ciphertexts: [] }, [], [prediction, vital, label, labelOfAnotherBatch]],
  ];

  it.each(cases.map((c) => [c[0].purpose, ...c] as const))('allows exactly what its purpose needs: %s', (_purpose, request, allowed, refused) => {
    for (const c of allowed) expect(permits(request, c), `${c.provenance} ${c.kind}`).toBe(true);
    for (const c of refused) expect(permits(request, c), `${c.provenance} ${c.kind} of batch ${c.batchId}`).toBe(false);
  });
});
