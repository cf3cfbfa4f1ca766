/*
 * The quantities the importer recognises in any file, each column on its own: what it is stored as (canonical
 * unit), the units a hospital export may use for it, and the range a reading must lie in. Ranges are generous on
 * purpose: they catch unit mix-ups and typos, not abnormal patients. A value outside its unit's range is an error
 * at its row, never clipped; a column whose unit neither the header, the user nor its values settle is an error
 * that asks for the unit, never a guess.
 */

export type Quantity =
  | 'temperature'
  | 'systolic_bp'
  | 'diastolic_bp'
  | 'respiratory_rate'
  | 'spo2'
  | 'heart_rate'
  | 'weight'
  | 'height'
  | 'glucose';

export interface Unit {
  /** What --unit COL=ID names, and the preview shows. */
  id: string;
  label: string;
  /** Readings in this unit must lie here. */
  range: readonly [number, number];
  /** To the quantity's canonical unit. */
  toCanonical: (value: number) => number;
  /** Header words (lower case, punctuation removed) that state this unit. */
  words: readonly string[];
}

export interface QuantityRule {
  /** The canonical unit's label; the first of `units` is the canonical one. */
  unit: string;
  range: readonly [number, number];
  units: readonly Unit[];
}

const same = (value: number): number => value;

function only(id: string, label: string, range: readonly [number, number], words: readonly string[]): QuantityRule {
  return { unit: label, range, units: [{ id, label, range, toCanonical: same, words }] };
}

export const QUANTITIES: Readonly<Record<Quantity, QuantityRule>> = {
  temperature: {
    unit: '°C',
    range: [25, 45],
    units: [
      { id: 'C', label: '°C', range: [25, 45], toCanonical: same, words: ['c', 'degc', 'celsius', 'centigrade'] },
      // 25–45 °C in °F: the two bands do not overlap, so a column's values alone can settle its unit.
      { id: 'F', label: '°F', range: [77, 113], toCanonical: (f) => ((f - 32) * 5) / 9, words: ['f', 'degf', 'fahrenheit'] },
    ],
  },
  systolic_bp: only('mmHg', 'mmHg', [40, 300], ['mmhg']),
  diastolic_bp: only('mmHg', 'mmHg', [20, 200], ['mmhg']),
  respiratory_rate: only('breaths/min', 'breaths/min', [2, 80], ['breathsmin', 'breathsperminute', 'permin', 'perminute', 'min']),
  spo2: {
    unit: '%',
    range: [40, 100],
    units: [
      { id: '%', label: '%', range: [40, 100], toCanonical: same, words: ['%', 'percent', 'pct'] },
      // Pulse oximeters and some exports give saturation as a fraction; a literal 1 % saturation is not survivable.
      { id: 'fraction', label: 'fraction', range: [0.4, 1], toCanonical: (v) => v * 100, words: ['fraction'] },
    ],
  },
  heart_rate: only('bpm', 'bpm', [20, 300], ['bpm', 'beatsmin', 'perminute', 'min']),
  weight: {
    unit: 'kg',
    range: [0.3, 400],
    units: [
      { id: 'kg', label: 'kg', range: [0.3, 400], toCanonical: same, words: ['kg', 'kgs', 'kilogram', 'kilograms'] },
      { id: 'lb', label: 'lb', range: [0.66, 880], toCanonical: (lb) => lb * 0.45359237, words: ['lb', 'lbs', 'pound', 'pounds'] },
    ],
  },
  height: {
    unit: 'cm',
    range: [20, 250],
    units: [
      { id: 'cm', label: 'cm', range: [20, 250], toCanonical: same, words: ['cm', 'centimetre', 'centimetres', 'centimeter', 'centimeters'] },
      { id: 'm', label: 'm', range: [0.2, 2.5], toCanonical: (m) => m * 100, words: ['m', 'metre', 'metres', 'meter', 'meters'] },
      { id: 'in', label: 'in', range: [8, 100], toCanonical: (inch) => inch * 2.54, words: ['in', 'inch', 'inches'] },
    ],
  },
  glucose: {
    unit: 'mmol/L',
    range: [1, 60],
    units: [
      { id: 'mmol/L', label: 'mmol/L', range: [1, 60], toCanonical: same, words: ['mmoll', 'mmol'] },
      // 18.016 mg/dL per mmol/L (glucose's molar mass, 180.16 g/mol); 18–60 is where the two readings overlap.
      { id: 'mg/dL', label: 'mg/dL', range: [18, 1080], toCanonical: (mg) => mg / 18.016, words: ['mgdl', 'mg'] },
    ],
  },
};

/** The vital signs the vitals schema requires; any other recognised quantity is welcome but optional. */
export const CORE_VITALS: readonly Quantity[] = ['temperature', 'systolic_bp', 'diastolic_bp', 'respiratory_rate', 'spo2'];

export function formatRange(range: readonly [number, number], unit: string): string {
  return `${range[0]}–${range[1]} ${unit}`;
}

/** A unit of a quantity by what a user typed (--unit BodyTemp=F, °F, degF, Fahrenheit, mg/dL ...). */
export function unitNamed(quantity: Quantity, typed: string): Unit | null {
  const key = typed.normalize('NFKC').toLowerCase().replace(/°/g, 'deg').replace(/[^a-z0-9%]/g, '');
  return (
    QUANTITIES[quantity].units.find(
      (u) => u.id.toLowerCase().replace(/[^a-z0-9%]/g, '') === key || u.words.includes(key) || u.words.includes(key.replace(/^deg/, '')),
    ) ?? null
  );
}

/** A value in `unit`, converted to the canonical unit; NaN outside the unit's range. */
export function toCanonical(unit: Unit, value: number): number {
  return value >= unit.range[0] && value <= unit.range[1] ? unit.toCanonical(value) : Number.NaN;
}

export function rangeProblem(unit: Unit): string {
  return `out of physiological range ${formatRange(unit.range, unit.label)}`;
}

/**
 * The unit sampled values settle, or why they do not. One unit fitting every value settles it; failing that, one
 * unit fitting some values (the others, typos, become errors at their rows). Several units fitting every value
 * (70 kg or 70 lb), or values split between units (36.8 and 98.6), do not: the user must say which.
 */
export function unitByValues(quantity: Quantity, values: readonly number[]): { unit: Unit } | { ambiguous: Unit[] } | { none: true } {
  const units = QUANTITIES[quantity].units;
  const fits = (u: Unit, v: number): boolean => v >= u.range[0] && v <= u.range[1];
  const all = values.length === 0 ? [] : units.filter((u) => values.every((v) => fits(u, v)));
  if (all.length === 1) return { unit: all[0]! };
  if (all.length > 1) return { ambiguous: all };
  const some = units.filter((u) => values.some((v) => fits(u, v)));
  if (some.length === 1) return { unit: some[0]! };
  return some.length === 0 ? { none: true } : { ambiguous: some };
}
