import { choleskySolve, sigmoid } from './logistic.ts';

/**
 * Polynomial stand-in for the sigmoid: CKKS evaluates only additions and multiplications, so the
 * encrypted model applies this polynomial to w·x + b instead of the exact logistic function.
 */
export interface SigmoidPoly {
  degree: number;
  interval: number;
  /** Monomial basis in z, c0..cd. */
  coefficients: number[];
  /** max |poly - sigmoid| on [-interval, interval], measured on a dense grid. */
  maxError: number;
}

const FIT_POINTS = 2001;
const ERROR_POINTS = 20001;

/**
 * Least-squares fit of sigmoid on [-interval, interval] on a dense uniform grid.
 *
 * sigmoid(z) - 1/2 is an odd function, so on a symmetric grid the least-squares even coefficients are
 * zero in exact arithmetic. Fixing c0 = 1/2 and fitting only odd powers therefore loses nothing, halves
 * the unknowns and makes poly(-z) = 1 - poly(z) hold exactly: a patient on the decision boundary gets
 * exactly 0.5, and flipping the sign of the score flips the probability symmetrically.
 *
 * The fit is done in t = z / interval on [-1, 1]: in z the Gram matrix of z, z^3, ..., z^7 on [-8, 8]
 * spans ~12 orders of magnitude, in t its entries are O(1) and, with at most four unknowns, its
 * condition number (~3e4) is small enough for normal equations to keep ~11 significant digits.
 */
export function fitSigmoidPoly(degree: 1 | 3 | 5 | 7, interval: number): SigmoidPoly {
  if (!(interval > 0) || !Number.isFinite(interval)) {
    throw new RangeError(`fitSigmoidPoly: interval must be a positive finite number, got ${interval}`);
  }
  const powers = Array.from({ length: (degree + 1) / 2 }, (_, k) => 2 * k + 1);
  const k = powers.length;
  const gram = new Float64Array(k * k);
  const rhs = new Float64Array(k);
  for (let i = 0; i < FIT_POINTS; i++) {
    const t = -1 + (2 * i) / (FIT_POINTS - 1);
    const target = sigmoid(interval * t) - 0.5;
    const basis = powers.map((p) => t ** p);
    for (let a = 0; a < k; a++) {
      rhs[a]! += basis[a]! * target;
      for (let b = 0; b < k; b++) gram[a * k + b]! += basis[a]! * basis[b]!;
    }
  }
  const inT = choleskySolve(gram, rhs);
  const coefficients = new Array<number>(degree + 1).fill(0);
  coefficients[0] = 0.5;
  powers.forEach((p, a) => {
    coefficients[p] = inT[a]! / interval ** p;
  });

  const poly: SigmoidPoly = { degree, interval, coefficients, maxError: 0 };
  let maxError = 0;
  for (let i = 0; i < ERROR_POINTS; i++) {
    const z = -interval + (2 * interval * i) / (ERROR_POINTS - 1);
    maxError = Math.max(maxError, Math.abs(evalPoly(poly, z) - sigmoid(z)));
  }
  return { ...poly, maxError };
}

/** Horner's rule: degree multiplications, the same count the encrypted evaluation is budgeted for. */
export function evalPoly(p: SigmoidPoly, z: number): number {
  let acc = 0;
  for (let i = p.coefficients.length - 1; i >= 0; i--) acc = acc * z + p.coefficients[i]!;
  return acc;
}

/**
 * Approximation interval from the training linear predictions z = w·x + b: max |z| with a 10% margin,
 * rounded up to a whole number, never below 4. Outside the fitted interval the polynomial's leading
 * term takes over and it diverges fast (a degree-3 fit on [-5, 5] already gives about -2 at z = 10),
 * so the interval must cover the data, with headroom for unseen patients slightly beyond the training range.
 * The floor of 4 keeps the fit meaningful when the data are weakly predictive and all |z| are tiny.
 */
export function chooseInterval(z: Float64Array): number {
  let largest = 0;
  for (const v of z) {
    if (!Number.isFinite(v)) throw new RangeError(`chooseInterval: non-finite linear prediction ${v}`);
    largest = Math.max(largest, Math.abs(v));
  }
  return Math.max(4, Math.ceil(largest * 1.1));
}

/*
 * The polynomial is only an approximation of the sigmoid: just outside its interval it can leave [0, 1].
 * A probability is clamped after decryption, by the key holder, where it costs nothing.
 */
export function clampProbability(v: number): number {
  return Math.min(1, Math.max(0, v));
}
