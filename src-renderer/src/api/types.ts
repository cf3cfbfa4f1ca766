// The contract exports schemas; the renderer only needs their types, so zod stays out of the bundle.
import type { z } from 'zod';
import type * as C from '../../../src-preload/contract.ts';

export type { Progress, Role } from '../../../src-preload/contract.ts';
export type Custody = z.infer<typeof C.Custody>;
export type PresetName = z.infer<typeof C.PresetName>;
export type Scaling = z.infer<typeof C.Scaling>;
export type SigmoidDegree = z.infer<typeof C.SigmoidDegree>;
export type PresetInfo = z.infer<typeof C.PresetInfo>;
export type KeySetInfo = z.infer<typeof C.KeySetInfo>;
export type SessionStatus = z.infer<typeof C.SessionStatus>;
export type ImportOptions = z.infer<typeof C.ImportOptions>;
export type ImportPreview = z.infer<typeof C.ImportPreview>;
export type ImportOutcome = z.infer<typeof C.ImportOutcome>;
export type RowIssue = z.infer<typeof C.RowIssue>;
export type BatchInfo = z.infer<typeof C.BatchInfo>;
export type PatientMeta = z.infer<typeof C.PatientMeta>;
export type Overview = z.infer<typeof C.Overview>;
export type ModelInfo = z.infer<typeof C.ModelInfo>;
export type Metrics = z.infer<typeof C.Metrics>;
export type TrainResult = z.infer<typeof C.TrainResult>;
export type RunInfo = z.infer<typeof C.RunInfo>;
export type PatientPrediction = z.infer<typeof C.PatientPrediction>;
export type Evaluation = z.infer<typeof C.Evaluation>;
export type BenchResult = z.infer<typeof C.BenchResult>;
export type AuditEntry = z.infer<typeof C.AuditEntry>;
export type AuditVerification = z.infer<typeof C.AuditVerification>;
