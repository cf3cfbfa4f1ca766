// Tokens that exports use for "no measurement"; compared trimmed and case-insensitively.
const MISSING_TOKENS = new Set(['', 'na', 'n/a', 'nan', 'null', '-', '?']);

const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
// With ';' as delimiter a comma cannot split fields, so European exports write "37,2"; one separator, no grouping.
const COMMA_OR_POINT_NUMBER = /^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:e[+-]?\d+)?$/i;
const INFINITY_WORD = /^[+-]?inf(?:inity)?$/i;

export type Cell =
  | { kind: 'number'; value: number }
  | { kind: 'missing' }
  | { kind: 'invalid'; problem: string };

export function isMissing(text: string): boolean {
  return MISSING_TOKENS.has(text.trim().toLowerCase());
}

export function readNumber(text: string, decimalComma: boolean): Cell {
  const trimmed = text.trim();
  if (isMissing(trimmed)) return { kind: 'missing' };
  if (INFINITY_WORD.test(trimmed)) return { kind: 'invalid', problem: 'not a finite number' };
  const pattern = decimalComma ? COMMA_OR_POINT_NUMBER : PLAIN_NUMBER;
  if (!pattern.test(trimmed)) return { kind: 'invalid', problem: 'not a number' };
  const value = Number(decimalComma ? trimmed.replace(',', '.') : trimmed);
  if (!Number.isFinite(value)) return { kind: 'invalid', problem: 'not a finite number' };
  return { kind: 'number', value };
}

export type PressureCell =
  | { kind: 'pair'; systolic: number; diastolic: number }
  | { kind: 'missing' }
  | { kind: 'invalid'; problem: string };

/** A combined blood-pressure cell such as "120/80". */
export function readBloodPressure(text: string, decimalComma: boolean): PressureCell {
  if (isMissing(text)) return { kind: 'missing' };
  const parts = text.split('/');
  const systolic = readNumber(parts[0] ?? '', decimalComma);
  const diastolic = readNumber(parts[1] ?? '', decimalComma);
  if (parts.length !== 2 || systolic.kind !== 'number' || diastolic.kind !== 'number') {
    return { kind: 'invalid', problem: 'not a blood pressure reading (expected systolic/diastolic, e.g. 120/80)' };
  }
  return { kind: 'pair', systolic: systolic.value, diastolic: diastolic.value };
}
