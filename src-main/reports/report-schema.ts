import { z } from 'zod';
import { AuditVerification, Evaluation, ReleasePolicy } from '../../src-preload/contract.ts';

/**
 * The machine-readable twin of a report, and the one source the HTML and PDF are drawn from. Versioned so a
 * report filed by one release is read correctly, or refused with a reason, by another. Like the audit log it
 * is handed to auditors: aggregates, parameters and counts only, never a vital, a label or a patient id.
 */

const KeySetSchema = z.object({
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  preset: z.string(),
  polyModulusDegree: z.number().int(),
  coeffModulusBits: z.array(z.number().int()),
  scaleBits: z.number().int(),
  levels: z.number().int(),
  securityBits: z.number().int(),
  custody: z.string(),
  createdAt: z.string(),
});

const DataSchema = z.object({
  hospitals: z.array(z.object({ name: z.string(), patients: z.number().int(), batches: z.number().int() })),
  batches: z.array(
    z.object({
      id: z.number().int(),
      createdAt: z.string(),
      rows: z.number().int(),
      labeledRows: z.number().int(),
      dropped: z.number().int(),
      features: z.number().int(),
    }),
  ),
  totals: z.object({ hospitals: z.number().int(), batches: z.number().int(), patients: z.number().int(), labeled: z.number().int() }),
});

const ModelCardSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  features: z.array(z.object({ name: z.string(), unit: z.string(), mean: z.number(), std: z.number(), weight: z.number() })),
  bias: z.number(),
  sigmoid: z.object({ degree: z.number().int(), interval: z.number(), coefficients: z.array(z.number()), maxError: z.number() }),
  training: z.object({
    method: z.string(),
    rows: z.number().int(),
    positives: z.number().int(),
    l2: z.number().optional(),
    source: z.string().optional(),
  }),
});

export const NOT_EVALUATED_REASONS = {
  locked: 'not evaluated (locked): evaluation decrypts predictions and labels, which needs the unlocked key set',
  role: 'not evaluated (role): evaluation decrypts predictions and labels, which only the researcher role may request',
  'no-run': 'not evaluated: this workspace has no prediction run',
  'no-labels': 'not evaluated: the latest prediction run covers no labeled patients',
  'other-key-set': 'not evaluated: the latest prediction run was made under another key set',
  'too-few-patients': 'not evaluated: the latest prediction run covers fewer labeled patients than the decryption policy allows aggregates over',
} as const;

const RunSchema = z.object({
  id: z.number().int(),
  createdAt: z.string(),
  modelId: z.string(),
  scaling: z.string(),
  /** Which sigmoid the run's probabilities used: the exact logistic after decryption, or the polynomial. */
  sigmoid: z.enum(['exact', 'polynomial']),
  batchIds: z.array(z.number().int()),
  patients: z.number().int(),
});

const EvaluationSchema = z.discriminatedUnion('status', [
  // The evaluation as the app shows it: bins of at least k patients of every batch, no per-patient score.
  // trainedOn defaults to none: reports signed before it was recorded still parse (and verify) as they were.
  Evaluation.omit({ runId: true }).extend({ status: z.literal('evaluated'), run: RunSchema, trainedOn: z.array(z.number()).default([]) }),
  z.object({
    status: z.literal('not-evaluated'),
    reason: z.enum(Object.keys(NOT_EVALUATED_REASONS) as [keyof typeof NOT_EVALUATED_REASONS]),
    run: RunSchema.nullable(),
  }),
]);

const BenchRunSchema = z.object({
  id: z.number().int(),
  createdAt: z.string(),
  preset: z.string(),
  patients: z.number().int(),
  scaling: z.string(),
  keygenMs: z.number(),
  importMs: z.number(),
  encryptUsPerValue: z.number(),
  predictPatientsPerS: z.number(),
  evalPatientsPerS: z.number(),
  decryptMs: z.number(),
  bytesPerPatient: z.number(),
  heToPlainRatio: z.number(),
  peakRssBytes: z.number(),
});

const AuditExcerptSchema = z.object({
  /** The chain and its signed anchor (audit/anchor.ts), as verified when the report was made. */
  chain: AuditVerification,
  since: z.string().nullable(),
  /** Older entries of the period were left out to keep the report bounded. */
  truncated: z.boolean(),
  entries: z.array(
    z.object({
      seq: z.number().int(),
      at: z.string(),
      actor: z.string(),
      role: z.string(),
      action: z.string(),
      detail: z.record(z.string(), z.unknown()),
      hash: z.string(),
    }),
  ),
});

export const ReportSchema = z.object({
  format: z.literal('homopai.report'),
  version: z.literal(2),
  generatedAt: z.string(),
  appVersion: z.string(),
  generatedBy: z.object({ user: z.string(), role: z.string() }),
  keySet: KeySetSchema,
  data: DataSchema,
  model: ModelCardSchema.nullable(),
  evaluation: EvaluationSchema,
  /** The release rule in force and the privacy ledger: what may leave the key holder's process, and what has. */
  privacy: z.object({
    policy: ReleasePolicy,
    epsilonSpent: z.number(),
    releases: z.array(z.object({ seq: z.number().int(), at: z.string(), purpose: z.string(), epsilon: z.number(), patients: z.number().nullable() })),
  }),
  benchmarks: z.object({ latest: BenchRunSchema.nullable(), history: z.array(BenchRunSchema) }),
  audit: AuditExcerptSchema,
});

export type Report = z.infer<typeof ReportSchema>;
export type ReportEvaluation = Report['evaluation'];
