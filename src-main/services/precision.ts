import type { SigmoidMode } from '../circuits/inference.ts';
import { sigmoid } from '../ml/logistic.ts';
import { clampProbability } from '../ml/sigmoid-poly.ts';

/*
 * A CKKS decryption carries the encryption error in its low bits (about 1e-7 at this project's scales), and a
 * party that holds the ciphertexts and sees a full-precision decryption can start recovering the secret key
 * from it (Li and Micciancio, 2020). So nothing decrypted leaves the key holder's process as the raw decoded
 * double: each value is released at the precision it means, far above the error and far below anything a
 * clinician or a metric needs. (OpenFHE answers the same attack with noise flooding at decryption; rounding
 * keeps every figure exactly reproducible, which the reports and the tests rely on.)
 */

/** A probability shown to a clinician: four decimals (0.7312). */
export const PROBABILITY_DECIMALS = 4;
/** Cohort statistics: six significant digits (37.0214, 120.318). */
const STATISTIC_DIGITS = 6;
/** A gradient component the key holder steps on: 1e-6, a thousandth of its smallest meaningful step. */
const GRADIENT_DECIMALS = 6;

export function roundTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

export function releasedProbability(p: number): number {
  return roundTo(clampProbability(p), PROBABILITY_DECIMALS);
}

/**
 * A decrypted prediction slot as the probability shown: the logistic function of the logit in exact mode (the
 * model's own probability), the polynomial's value clamped to [0, 1] in polynomial mode; then released.
 */
export function releasedPrediction(value: number, mode: SigmoidMode): number {
  return releasedProbability(mode === 'exact' ? sigmoid(value) : value);
}

export function releasedStatistic(x: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(STATISTIC_DIGITS));
}

export function releasedGradient(g: number): number {
  return roundTo(g, GRADIENT_DECIMALS);
}
