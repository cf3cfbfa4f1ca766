import { deriveGaloisKeys } from '../ckks/galois.ts';
import { EvaluationKeys } from '../ckks/keys.ts';
import { type SlotSumBytes, slotSumSteps } from '../ckks/rotate.ts';
import { maskedSquaredDeviations, maskedTotal } from '../circuits/totals.ts';
import { loadCohort } from './pooled-cohort.ts';
import { insertCohortStats, latestCohortStats, setGaloisKeys } from '../store/federation.ts';
import type { KeySetRow } from '../store/keysets.ts';
import { cohortTotal } from './provenance.ts';
import { contextFor } from '../ckks/contexts.ts';
import type { KeyHolder } from './key-sets.ts';
import { type CohortTotals, decryptUnderPolicy, meetsUnits, minPatients, requireUnits } from './policy.ts';
import { releasedStatistic } from './precision.ts';
import { releasePolicy } from './release-policy.ts';
import type { FeatureMeta } from '../store/batches.ts';
import { type JobHooks, throwIfCancelled } from '../common/jobs.ts';
import type { Workspace } from '../store/workspace.ts';
import type { Caller } from './caller.ts';

export interface FeatureStats {
  name: string;
  unit: string;
  count: number;
  mean: number;
  /** Population standard deviation (divide by n), as the standard scaler uses; 1 for a constant feature. */
  std: number;
}

export interface CohortStats {
  id: number;
  batchIds: number[];
  hospitals: string[];
  patients: number;
  labeledPatients: number;
  /**
   * Labeled at-risk patients (the total of the encrypted labels), or null when fewer than the policy's k
   * patients are labeled.
   */
  positives: number | null;
  features: FeatureStats[];
  createdAt: string;
}

/**
 * The active key set (which `holder` must have unlocked) with the Galois keys of every power-of-two rotation step, which slot sums need. Key sets made
 * before encrypted statistics existed have none: the key holder derives them from the unlocked secret key,
 * once, and they are stored with the key set's other evaluation keys (~11 MiB at N=8192).
 */
export async function withGaloisKeys(caller: Caller, holder: KeyHolder): Promise<KeySetRow> {
  const { ws } = caller;
  const keySet = ws.requireKeySet();
  if (holder.fingerprint !== keySet.fingerprint) throw new Error("the unlocked key set is not this workspace's active one");
  const ctx = await contextFor(keySet.preset);
  const needed = slotSumSteps(ctx.slotCount);
  if (keySet.galoisKeys && needed.every((s) => keySet.galoisSteps.includes(s))) return keySet;
  const steps = [...new Set([...keySet.galoisSteps, ...needed])].sort((a, b) => a - b);
  const t0 = performance.now();
  const galois = deriveGaloisKeys(ctx, holder.secretKey(), steps);
  setGaloisKeys(ws.db, keySet.fingerprint, galois, steps);
  caller.audit('keygen', { key: 'galois', keySet: keySet.fingerprint, steps, ms: Math.round(performance.now() - t0) });
  return ws.requireKeySet();
}

/*
 * The encrypted variance carries ~1e-7 of absolute CKKS noise (rescaling noise per slot, averaged), so a
 * constant feature comes out as a tiny positive or negative number rather than 0. Below this floor (a standard
 * deviation of 1e-3, far under any vital's spread) a feature is treated as constant and scaled by 1, as
 * fitScaler does, instead of having its noise blown up by a near-zero divisor.
 */
const CONSTANT_VARIANCE = 1e-6;

/** Statistics already computed over exactly these batches under the active key set, if any (verified). */
export function storedCohortStats(ws: Workspace, batchIds: readonly number[]): CohortStats | null {
  const row = latestCohortStats(ws.db, ws.rowMac(), ws.requireKeySet().fingerprint, batchIds);
  return row ? { ...(JSON.parse(row.json) as Omit<CohortStats, 'id'>), id: row.id } : null;
}

/** The request the decryption policy decides on for totals over a cohort's patients. */
export function cohortRequest(what: CohortTotals, batchIds: readonly number[], epoch?: number) {
  return { purpose: 'cohort-totals', what, batchIds, ...(epoch === undefined ? {} : { epoch }) } as const;
}

/**
 * The validated range of each feature, which bounds what one patient can change in a total (the sensitivity
 * differential privacy calibrates its noise to). A feature with none (a column taken as given) has no bound.
 */
export function featureRanges(features: readonly FeatureMeta[]): [number, number][] {
  const missing = features.filter((f) => !f.range).map((f) => f.name);
  if (missing.length > 0) {
    throw new Error(
      `differential privacy needs a validated range for every feature, to bound one patient's influence; ` +
        `${missing.slice(0, 5).join(', ')} ${missing.length === 1 ? 'has' : 'have'} none (columns taken as given)`,
    );
  }
  return features.map((f) => f.range!);
}

/**
 * Per-feature count, mean and standard deviation (and the number of at-risk labels) over the pooled
 * ciphertexts of `batchIds`, computed homomorphically: the key holder decrypts only cohort totals, each over
 * every patient of the cohort, through the decryption policy (k patients at least). Two rounds: the means,
 * then the squared deviations from them. The result feeds the standard scaler of encrypted training and is
 * stored.
 */
export async function computeCohortStats(
  caller: Caller,
  holder: KeyHolder,
  batchIds: readonly number[],
  hooks: JobHooks = {},
): Promise<CohortStats> {
  const { ws } = caller;
  const keySet = await withGaloisKeys(caller, holder);
  const ctx = await contextFor(keySet.preset);
  const cohort = loadCohort(ws, batchIds, ctx.slotCount);
  const n = cohort.patients;
  using keys = new EvaluationKeys(ctx, keySet.relinKeys, keySet.galoisKeys);
  const { blocks } = cohort;
  const present = blocks.map((b) => b.present);
  const d = cohort.features.length;

  const ranges = releasePolicy(ws).dp ? featureRanges(cohort.features) : null;

  const { means, stds } = await decryptUnderPolicy(caller, holder, cohortRequest('cohort-statistics', cohort.batchIds), (decrypt, r) => {
    requireUnits(cohort.patientsPerBatch, r.k, 'the cohort statistics', 'patient');
    const total = (bytes: SlotSumBytes): number => decrypt(cohortTotal(bytes))[0]!;
    // With differential privacy: a patient moves a feature's total by at most its range w, and its sum of squared
    // deviations by at most w^2; the release's epsilon is shared by the 2d totals.
    const noise = (j: number, power: 1 | 2): number => (ranges && r.dp ? r.dp.laplace((ranges[j]![1] - ranges[j]![0]) ** power, 1 / (2 * d)) : 0);
    const means = cohort.features.map((_, j) => {
      throwIfCancelled(hooks, 'the statistics');
      hooks.onProgress?.({ phase: 'encrypted means', done: j, total: d });
      return (total(maskedTotal(ctx, keys, blocks.map((b) => b.features[j]!), present)) + noise(j, 1)) / n;
    });
    const stds = cohort.features.map((_, j) => {
      throwIfCancelled(hooks, 'the statistics');
      hooks.onProgress?.({ phase: 'encrypted deviations', done: j, total: d });
      const variance = (total(maskedSquaredDeviations(ctx, keys, blocks.map((b) => b.features[j]!), present, means[j]!)) + noise(j, 2)) / n;
      return variance > CONSTANT_VARIANCE ? Math.sqrt(variance) : 1;
    });
    return { means: means.map(releasedStatistic), stds: stds.map(releasedStatistic) };
  });
  // The number of at-risk labels is an aggregate over the labeled patients alone: asked for only when every
  // batch holds none or at least k of them, so a cohort with few labels gets null rather than a refusal.
  const labeledBlocks = blocks.filter((b) => b.label && b.labeled.some((m) => m !== 0));
  const positives = meetsUnits(cohort.labeledPerBatch, minPatients(caller))
    ? await decryptUnderPolicy(caller, holder, cohortRequest('at-risk-count', cohort.batchIds), (decrypt, r) => {
        requireUnits(cohort.labeledPerBatch, r.k, 'the at-risk count');
        const count = decrypt(cohortTotal(maskedTotal(ctx, keys, labeledBlocks.map((b) => b.label!), labeledBlocks.map((b) => b.labeled))))[0]!;
        return Math.max(0, Math.round(count + (r.dp ? r.dp.laplace(1, 1) : 0)));
      })
    : null;

  const stats: Omit<CohortStats, 'id'> = {
    batchIds: [...cohort.batchIds].sort((a, b) => a - b),
    hospitals: cohort.hospitals,
    patients: n,
    labeledPatients: cohort.labeledPatients,
    positives,
    features: cohort.features.map((f, j) => ({ name: f.name, unit: f.unit, count: n, mean: means[j]!, std: stds[j]! })),
    createdAt: new Date().toISOString(),
  };
  const id = insertCohortStats(ws.db, ws.rowMac(), { keyFingerprint: keySet.fingerprint, batchIds: stats.batchIds, json: JSON.stringify(stats), createdAt: stats.createdAt });
  return { ...stats, id };
}
