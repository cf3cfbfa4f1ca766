export interface StandardScaler {
  mean: number[];
  std: number[];
}

/** Per-column mean and population standard deviation (divide by n, matching the transform applied at inference). */
export function fitScaler(columns: Float64Array[]): StandardScaler {
  const mean: number[] = [];
  const std: number[] = [];
  for (const column of columns) {
    if (column.length === 0) throw new RangeError('fitScaler: cannot fit a scaler on an empty column');
    let sum = 0;
    for (const v of column) sum += v;
    const m = sum / column.length;
    let squares = 0;
    for (const v of column) squares += (v - m) * (v - m);
    const s = Math.sqrt(squares / column.length);
    mean.push(m);
    // A constant feature (e.g. every patient at SpO2 100 in a tiny cohort) has std 0; dividing by it would
    // turn every value into NaN/Infinity. With 1 the column merely becomes all zeros and its weight is inert.
    std.push(s === 0 ? 1 : s);
  }
  return { mean, std };
}

export function transform(scaler: StandardScaler, columns: Float64Array[]): Float64Array[] {
  if (columns.length !== scaler.mean.length) {
    throw new RangeError(`transform: scaler has ${scaler.mean.length} features, got ${columns.length} columns`);
  }
  return columns.map((column, j) => {
    const m = scaler.mean[j]!;
    const s = scaler.std[j]!;
    return column.map((v) => (v - m) / s);
  });
}
