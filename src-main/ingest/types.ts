export type Delimiter = ',' | ';' | '\t';

export interface IngestOptions {
  schema?: 'auto' | 'vitals' | 'generic';
  features?: string[];
  label?: string;
  positive?: string;
  missing?: 'reject' | 'drop';
  hospital?: string;
  chunkRows?: number;
  signal?: AbortSignal;
}

export interface FeatureSpec {
  name: string;
  source: string;
  unit: string;
  range?: [number, number];
}

export interface ColumnPlan {
  schema: 'vitals' | 'generic';
  delimiter: Delimiter;
  features: FeatureSpec[];
  label: { source: string; positive: string | null } | null;
  hospitalColumn: string | null;
  patientColumn: string | null;
  notes: string[];
}

export interface RecordChunk {
  rowNumbers: Uint32Array;
  hospitalIds: string[];
  patientIds: string[];
  values: Float64Array[];
  labels: Float64Array | null;
}

export interface RowIssue {
  file: string;
  row: number;
  column: string | null;
  message: string;
}

export interface ReadSummary {
  rows: number;
  dropped: number;
  sha256: string;
}
