export type VitalKind = 'temperature' | 'systolic_bp' | 'diastolic_bp' | 'respiratory_rate' | 'spo2' | 'heart_rate';

/** Canonical feature order of the vitals schema; heart rate is optional and comes last. */
export const VITAL_ORDER: readonly VitalKind[] = [
  'temperature',
  'systolic_bp',
  'diastolic_bp',
  'respiratory_rate',
  'spo2',
  'heart_rate',
];

export const REQUIRED_VITALS: readonly VitalKind[] = VITAL_ORDER.filter((kind) => kind !== 'heart_rate');

// Generous on purpose: they catch unit mix-ups and typos, not abnormal patients. Violations are errors, never clipped.
export const VITAL_RULES: Readonly<Record<VitalKind, { unit: string; range: [number, number] }>> = {
  temperature: { unit: '°C', range: [25, 45] },
  systolic_bp: { unit: 'mmHg', range: [40, 300] },
  diastolic_bp: { unit: 'mmHg', range: [20, 200] },
  respiratory_rate: { unit: 'breaths/min', range: [2, 80] },
  spo2: { unit: '%', range: [40, 100] },
  heart_rate: { unit: 'bpm', range: [20, 300] },
};

export type TemperatureUnit = 'C' | 'F';

// 25–45 °C expressed in °F; the two bands do not overlap, which is what makes per-value detection safe.
const FAHRENHEIT_RANGE: [number, number] = [77, 113];

export function fahrenheitToCelsius(fahrenheit: number): number {
  return ((fahrenheit - 32) * 5) / 9;
}

export function formatRange(range: readonly [number, number], unit: string): string {
  return `${range[0]}–${range[1]} ${unit}`;
}

type Normalized = { ok: true; value: number } | { ok: false; problem: string };

const within = (value: number, range: readonly [number, number]): boolean => value >= range[0] && value <= range[1];

/**
 * Converts one reading to the canonical unit and checks its physiological range. `temperatureUnit` null means the
 * column name did not say, so each value's range decides.
 */
export function normalizeVital(kind: VitalKind, value: number, temperatureUnit: TemperatureUnit | null): Normalized {
  const canonical = canonicalVital(kind, value, temperatureUnit);
  return Number.isNaN(canonical)
    ? { ok: false, problem: rangeProblem(kind, temperatureUnit) }
    : { ok: true, value: canonical };
}

/** `normalizeVital` without the result object, for the reader's per-cell path: NaN when out of range. */
export function canonicalVital(kind: VitalKind, value: number, temperatureUnit: TemperatureUnit | null): number {
  const rule = VITAL_RULES[kind];
  if (kind === 'temperature') {
    if (temperatureUnit !== 'F' && within(value, rule.range)) return value;
    if (temperatureUnit !== 'C' && within(value, FAHRENHEIT_RANGE)) return fahrenheitToCelsius(value);
    return Number.NaN;
  }
  // Pulse oximeters and some exports give saturation as a fraction; a literal 1 % saturation is not survivable.
  const scaled = kind === 'spo2' && value > 0 && value <= 1 ? value * 100 : value;
  return within(scaled, rule.range) ? scaled : Number.NaN;
}

/** Why `canonicalVital` rejected a reading of `kind`. */
export function rangeProblem(kind: VitalKind, temperatureUnit: TemperatureUnit | null): string {
  const rule = VITAL_RULES[kind];
  if (kind !== 'temperature') return `out of physiological range ${formatRange(rule.range, rule.unit)}`;
  const expected =
    temperatureUnit === 'C'
      ? formatRange(rule.range, '°C')
      : temperatureUnit === 'F'
        ? formatRange(FAHRENHEIT_RANGE, '°F')
        : `${formatRange(rule.range, '°C')} or ${formatRange(FAHRENHEIT_RANGE, '°F')}`;
  return `out of physiological range ${expected}`;
}
