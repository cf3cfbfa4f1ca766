export type Delimiter = ',' | ';' | '\t';

export interface IngestOptions {
  /**
   * For the preview only: a column whose unit cannot be settled is shown as needing one (sourceUnit.from 'needed')
   * so the user can pick it, rather than refused; an import never sets it, so it still refuses such a column.
   */
  unitsUndecided?: 'show';
  /** auto: every known quantity recognised on its own; vitals: the same, requiring the core vital signs; generic: every column as given. */
  schema?: 'auto' | 'vitals' | 'generic';
  /** The unit of a column whose header does not say it (--unit BodyTemp=F), by column name. */
  units?: Record<string, string>;
  /** A range every value of a column taken as given must lie in (--range Age=15:70), by column name. */
  ranges?: Record<string, [number, number]>;
  features?: string[];
  label?: string;
  positive?: string;
  missing?: 'reject' | 'drop';
  /** reject (default): any invalid row rejects the file; skip: valid rows are read, invalid ones reported. */
  invalid?: 'reject' | 'skip';
  /** With skip: keep the rejected rows' cells too, for a rejects CSV the user asked for. */
  keepRejectedRows?: boolean;
  hospital?: string;
  chunkRows?: number;
  signal?: AbortSignal;
}

export interface FeatureSpec {
  name: string;
  source: string;
  /** The unit it is stored in (canonical for a recognised quantity); '' when the file does not say. */
  unit: string;
  /** What every value was checked against, in `unit`: a recognised quantity's range, or one the user declared. */
  range?: [number, number];
  /** The quantity the column was recognised as; absent for a column taken as given. */
  recognisedAs?: string;
  /**
   * The unit the file holds it in, and how that was settled: header, option (--unit), values, the only unit,
   * assumed (no sampled value fits any unit), or needed (the preview of a column only the user can settle).
   */
  sourceUnit?: { id: string; label: string; from: 'header' | 'option' | 'values' | 'only unit' | 'assumed' | 'needed' };
  /** The units a recognised quantity can be stated in, when it has more than one: what a unit picker offers. */
  unitChoices?: { id: string; label: string }[];
  /** "°F → °C" when values are converted. */
  conversion?: string;
}

/** A feature as the store keeps it: its name, canonical unit and, for a recognised vital, the range it was checked against. */
export function storedFeature(f: FeatureSpec): { name: string; unit: string; range?: [number, number] } {
  return { name: f.name, unit: f.unit, ...(f.range ? { range: [f.range[0], f.range[1]] } : {}) };
}

export interface ColumnPlan {
  /** generic: every column as given; vitals: the core vital signs all recognised; auto: recognised where known. */
  schema: 'auto' | 'vitals' | 'generic';
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
  /** The line in the file (the header is line 1); 0 for the file as a whole. */
  row: number;
  column: string | null;
  /** What is wrong, without where: the screen groups rows by it. */
  problem: string;
  /** Where and what, in one line: for logs, the CLI and the rejects report. */
  message: string;
}

export interface ReadSummary {
  rows: number;
  dropped: number;
  sha256: string;
  /**
   * Rows skipped as invalid (invalid: 'skip'): each problem by row and column, and, when asked for, the header's
   * cells followed by each rejected row's.
   */
  rejected: { rows: number; issues: RowIssue[]; cells: string[][] | null };
}
