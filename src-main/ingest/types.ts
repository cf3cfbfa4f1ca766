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

/** A feature as the store keeps it: its name, canonical unit and, for a recognised vital, the range it was checked against. */
export function storedFeature(f: FeatureSpec): { name: string; unit: string; range?: [number, number] } {
  return { name: f.name, unit: f.unit, ...(f.range ? { range: [f.range[0], f.range[1]] } : {}) };
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
