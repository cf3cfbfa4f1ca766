/**
 * Plaintext logistic regression on already-scaled feature columns.
 *
 * Objective (both trainers): mean log-loss + (l2 / 2) * ||w||^2, bias excluded from the penalty.
 * Because the loss is a mean, l2 is relative to n: l2 = 1e-2 equals a ridge of 1e-2 * n on the summed
 * loss, so the same value means the same amount of shrinkage for 19 patients and for a million.
 */

export interface LogisticWeights {
  weights: number[];
  bias: number;
}

/**
 * Default ridge strength. The 19-patient pilot is perfectly separable, so the unregularised maximum
 * likelihood estimate does not exist: the likelihood keeps improving as ||w|| -> infinity and plain Newton
 * steps grow without bound. Any positive ridge makes the objective strictly convex with a finite minimiser.
 */
const DEFAULT_L2 = 1e-2;

/** Numerically stable logistic function (never evaluates exp of a large positive number). */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^z) without overflow for large z. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function rowCount(x: Float64Array[]): number {
  const first = x[0];
  if (first === undefined) throw new RangeError('logistic: at least one feature column is required');
  for (const column of x) {
    if (column.length !== first.length) throw new RangeError('logistic: feature columns differ in length');
  }
  return first.length;
}

/** w·x + b for every row. */
export function linear(x: Float64Array[], w: LogisticWeights): Float64Array {
  if (w.weights.length !== x.length) {
    throw new RangeError(`linear: ${w.weights.length} weights for ${x.length} feature columns`);
  }
  const z = new Float64Array(rowCount(x)).fill(w.bias);
  x.forEach((column, j) => {
    const wj = w.weights[j]!;
    for (let i = 0; i < z.length; i++) z[i]! += wj * column[i]!;
  });
  return z;
}

export function predictProba(
  x: Float64Array[],
  w: LogisticWeights,
  sigmoidFn: (z: number) => number = sigmoid,
): Float64Array {
  return linear(x, w).map(sigmoidFn);
}

/** Penalised mean log-loss, written as softplus(z) - y z so it stays finite for confident predictions. */
function objective(z: Float64Array, y: Float64Array, weights: ArrayLike<number>, l2: number): number {
  let loss = 0;
  for (let i = 0; i < z.length; i++) loss += softplus(z[i]!) - y[i]! * z[i]!;
  let norm2 = 0;
  for (let j = 0; j < weights.length; j++) norm2 += weights[j]! ** 2;
  return loss / z.length + (l2 / 2) * norm2;
}

function checkLabels(x: Float64Array[], y: Float64Array): number {
  const n = rowCount(x);
  if (y.length !== n) throw new RangeError(`logistic: ${y.length} labels for ${n} rows`);
  if (n === 0) throw new RangeError('logistic: no training rows');
  for (const v of y) if (v !== 0 && v !== 1) throw new RangeError(`logistic: labels must be 0 or 1, got ${v}`);
  return n;
}

/**
 * Solves A x = b for a symmetric positive definite A (row-major, m x m) by Cholesky, A = L L^T.
 * Cholesky rather than a general solver because the Newton Hessian is SPD by construction and the
 * factorisation fails loudly (instead of returning garbage) if it is not.
 */
export function choleskySolve(a: Float64Array, b: Float64Array): Float64Array {
  const m = b.length;
  if (a.length !== m * m) throw new RangeError('choleskySolve: matrix and vector sizes disagree');
  const l = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * m + j]!;
      for (let k = 0; k < j; k++) s -= l[i * m + k]! * l[j * m + k]!;
      if (i === j) {
        if (!(s > 0)) throw new Error('choleskySolve: matrix is not positive definite');
        l[i * m + i] = Math.sqrt(s);
      } else {
        l[i * m + j] = s / l[j * m + j]!;
      }
    }
  }
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * m + k]! * out[k]!;
    out[i] = s / l[i * m + i]!;
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = out[i]!;
    for (let k = i + 1; k < m; k++) s -= l[k * m + i]! * out[k]!;
    out[i] = s / l[i * m + i]!;
  }
  return out;
}

/** Parameter vector layout shared by the Newton solver: weights 0..d-1, bias at index d. */
function unpack(theta: Float64Array): LogisticWeights {
  const d = theta.length - 1;
  return { weights: Array.from(theta.subarray(0, d)), bias: theta[d]! };
}

/**
 * Newton's method (equivalently IRLS) on the penalised objective. Each step solves the (d+1)x(d+1)
 * system H s = g, with H = X^T S X / n + l2 * I (no ridge on the bias entry), S = diag(p (1 - p)).
 * Steps are damped by backtracking: the first full step from zero can overshoot when the data are
 * (nearly) separable and the ridge is weak, and halving restores monotone descent without losing the
 * quadratic convergence near the optimum, where the full step is always accepted.
 */
export function trainLogistic(
  x: Float64Array[],
  y: Float64Array,
  opts: { l2?: number; maxIter?: number; tol?: number } = {},
): LogisticWeights & { iterations: number; converged: boolean } {
  const n = checkLabels(x, y);
  const l2 = opts.l2 ?? DEFAULT_L2;
  const maxIter = opts.maxIter ?? 100;
  const tol = opts.tol ?? 1e-8;
  const d = x.length;
  const m = d + 1;
  // Appending a column of ones lets the bias share all the Hessian and gradient code with the weights.
  const columns = [...x, new Float64Array(n).fill(1)];
  let theta: Float64Array = new Float64Array(m);
  let z: Float64Array = new Float64Array(n);
  let f = objective(z, y, theta.subarray(0, d), l2);

  for (let iter = 1; iter <= maxIter; iter++) {
    const gradient = new Float64Array(m);
    const hessian = new Float64Array(m * m);
    const residual = new Float64Array(n);
    const curvature = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const p = sigmoid(z[i]!);
      residual[i] = p - y[i]!;
      curvature[i] = p * (1 - p);
    }
    for (let j = 0; j < m; j++) {
      const cj = columns[j]!;
      let g = 0;
      for (let i = 0; i < n; i++) g += residual[i]! * cj[i]!;
      gradient[j] = g / n + (j < d ? l2 * theta[j]! : 0);
      for (let k = 0; k <= j; k++) {
        const ck = columns[k]!;
        let h = 0;
        for (let i = 0; i < n; i++) h += curvature[i]! * cj[i]! * ck[i]!;
        h /= n;
        if (j === k && j < d) h += l2;
        hessian[j * m + k] = h;
        hessian[k * m + j] = h;
      }
    }
    const step = choleskySolve(hessian, gradient);
    let largest = 0;
    for (const s of step) largest = Math.max(largest, Math.abs(s));
    // Judged on the full Newton step, before damping: a heavily damped step is small because the line
    // search struggled, not because the optimum was reached.
    if (largest < tol) {
      return { ...unpack(theta.map((v, j) => v - step[j]!)), iterations: iter, converged: true };
    }
    let slope = 0;
    for (let j = 0; j < m; j++) slope += gradient[j]! * step[j]!;

    let t = 1;
    for (;;) {
      const next = theta.map((v, j) => v - t * step[j]!);
      const nextZ = linear(x, unpack(next));
      const nextF = objective(nextZ, y, next.subarray(0, d), l2);
      if (nextF <= f - 1e-4 * t * slope) {
        theta = next;
        z = nextZ;
        f = nextF;
        break;
      }
      t /= 2;
      // No decrease even for a vanishing step: rounding dominates, further iterations cannot help.
      if (t < 1e-10) return { ...unpack(theta), iterations: iter, converged: false };
    }
  }
  return { ...unpack(theta), iterations: maxIter, converged: false };
}

/**
 * Full-batch gradient descent, optionally with Nesterov acceleration. This is the plaintext twin of
 * encrypted training: it uses the same update, and the sigmoid is pluggable so the polynomial
 * approximation evaluated under CKKS can be substituted and its effect measured in the clear.
 *
 * Nesterov follows the schedule used for HE logistic regression (Kim et al., 2018): a gradient step from
 * the look-ahead point v, then v = (1 - gamma) w_new + gamma w_old with gamma = (1 - lambda_t) / lambda_{t+1},
 * lambda_1 = 1 (so the first epoch is a plain gradient step) and lambda_{t+1} = (1 + sqrt(1 + 4 lambda_t^2)) / 2.
 * gamma is data-independent, so under encryption the momentum costs only plaintext-scalar multiplications.
 */
export function trainGradientDescent(
  x: Float64Array[],
  y: Float64Array,
  opts: { epochs: number; lr: number; l2?: number; nesterov?: boolean; sigmoid?: (z: number) => number },
): LogisticWeights & { history: { epoch: number; loss: number }[] } {
  const n = checkLabels(x, y);
  const l2 = opts.l2 ?? DEFAULT_L2;
  const sigmoidFn = opts.sigmoid ?? sigmoid;
  const d = x.length;
  let w: LogisticWeights = { weights: new Array<number>(d).fill(0), bias: 0 };
  let lookAhead = w;
  let lambda = 1;
  // The recorded loss always uses the exact sigmoid: it measures how good the weights are, whereas a
  // polynomial "probability" can leave (0, 1) and would make the log-loss undefined.
  const loss = (weights: LogisticWeights): number => objective(linear(x, weights), y, weights.weights, l2);
  const history = [{ epoch: 0, loss: loss(w) }];

  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const z = linear(x, lookAhead);
    const residual = z.map((zi, i) => sigmoidFn(zi) - y[i]!);
    let biasGradient = 0;
    for (const r of residual) biasGradient += r;
    const stepped: LogisticWeights = {
      weights: lookAhead.weights.map((wj, j) => {
        const column = x[j]!;
        let g = 0;
        for (let i = 0; i < n; i++) g += residual[i]! * column[i]!;
        return wj - opts.lr * (g / n + l2 * wj);
      }),
      bias: lookAhead.bias - (opts.lr * biasGradient) / n,
    };
    if (opts.nesterov) {
      const nextLambda = (1 + Math.sqrt(1 + 4 * lambda * lambda)) / 2;
      const gamma = (1 - lambda) / nextLambda;
      lookAhead = {
        weights: stepped.weights.map((wj, j) => (1 - gamma) * wj + gamma * w.weights[j]!),
        bias: (1 - gamma) * stepped.bias + gamma * w.bias,
      };
      lambda = nextLambda;
    } else {
      lookAhead = stepped;
    }
    w = stepped;
    history.push({ epoch, loss: loss(w) });
  }
  return { ...w, history };
}
