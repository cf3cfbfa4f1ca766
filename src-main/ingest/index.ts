export type { ColumnPlan, FeatureSpec, IngestOptions, ReadSummary, RecordChunk, RowIssue } from './types.ts';
export { CsvValidationError, IssueLog, planError } from './errors.ts';
export { storedFeature } from './types.ts';
export { planColumns } from './plan.ts';
export { readAll, readRecords } from './reader.ts';
