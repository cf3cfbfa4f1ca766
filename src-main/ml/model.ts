import { z } from 'zod';

/**
 * On-disk model format. Versioned so a model exported by one release is either read correctly or
 * rejected with a clear message by another, never silently misinterpreted.
 */
export const ModelSchema = z.object({
  format: z.literal('homopai.model'),
  version: z.literal(1),
  id: z.string(),
  createdAt: z.string(),
  features: z.array(z.object({ name: z.string(), unit: z.string() })),
  scaler: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }),
  weights: z.array(z.number()),
  bias: z.number(),
  sigmoid: z.object({
    degree: z.number().int(),
    interval: z.number(),
    coefficients: z.array(z.number()),
    maxError: z.number(),
  }),
  training: z.object({
    method: z.string(),
    rows: z.number().int(),
    positives: z.number().int(),
    l2: z.number().optional(),
    epochs: z.number().int().optional(),
    lr: z.number().optional(),
    source: z.string().optional(),
    /** What it was trained on, to warn when a run scores the same data: the CSV's SHA-256, or the pooled batches. */
    sourceSha256: z.string().optional(),
    batchIds: z.array(z.number().int()).optional(),
  }),
});

export type Model = z.infer<typeof ModelSchema>;

/** Renders a zod path the way it would be written in code, e.g. `features[2].unit`. */
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${String(segment)}`))
    .join('');
}

/** Validates untrusted JSON (a file the user picked) and the cross-field invariants zod cannot express per field. */
export function parseModel(json: unknown): Model {
  const result = ModelSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
    throw new Error(`Invalid model: ${issues.join('; ')}`);
  }
  const model = result.data;
  const d = model.features.length;
  const problems: string[] = [];
  for (const [path, length] of [
    ['weights', model.weights.length],
    ['scaler.mean', model.scaler.mean.length],
    ['scaler.std', model.scaler.std.length],
  ] as const) {
    if (length !== d) problems.push(`${path}: has ${length} entries but the model has ${d} features`);
  }
  model.scaler.std.forEach((s, j) => {
    // foldScaler divides by std; fitScaler never produces 0, so a non-positive value means a corrupt file.
    if (!(s > 0)) problems.push(`scaler.std[${j}]: must be positive, got ${s}`);
  });
  if (model.sigmoid.coefficients.length !== model.sigmoid.degree + 1) {
    problems.push(
      `sigmoid.coefficients: has ${model.sigmoid.coefficients.length} entries but degree ${model.sigmoid.degree} needs ${model.sigmoid.degree + 1}`,
    );
  }
  if (problems.length > 0) throw new Error(`Invalid model: ${problems.join('; ')}`);
  return model;
}

/**
 * Folds standard scaling into the linear model: w·((x - mean) / std) + b = (w / std)·x + (b - sum w mean / std).
 * Under CKKS every ciphertext-plaintext multiplication is followed by a rescale that consumes one level of
 * the modulus chain. Scaling the encrypted vitals first and then taking the dot product with w would be two
 * such multiplications in sequence; with folded weights the raw encrypted vitals need only one, leaving one
 * more level for the sigmoid polynomial (or allowing a smaller, faster parameter set).
 */
export function foldScaler(model: Model): { weights: number[]; bias: number } {
  const weights = model.weights.map((w, j) => w / model.scaler.std[j]!);
  let bias = model.bias;
  weights.forEach((w, j) => {
    bias -= w * model.scaler.mean[j]!;
  });
  return { weights, bias };
}
