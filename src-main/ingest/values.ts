import { MAX_ENCRYPTABLE } from '../ckks/encrypt.ts';

// Tokens that exports use for "no measurement"; compared trimmed and case-insensitively.
const MISSING_TOKENS = new Set(['', 'na', 'n/a', 'nan', 'null', '-', '?']);
const LONGEST_MISSING_TOKEN = Math.max(...Array.from(MISSING_TOKENS, (token) => token.length));
// Only 'N' lower-cases to 'n' and symbols have no case, so these are the only first characters a token can have.
const MISSING_TOKEN_INITIALS = new Set(
  Array.from(MISSING_TOKENS, (token) => token.slice(0, 1)).flatMap((initial) => [initial, initial.toUpperCase()]),
);

const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
// With ';' as delimiter a comma cannot split fields, so European exports write "37,2"; one separator, no grouping.
const COMMA_OR_POINT_NUMBER = /^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:e[+-]?\d+)?$/i;
const INFINITY_WORD = /^[+-]?inf(?:inity)?$/i;

export type NotANumber = { kind: 'missing' } | { kind: 'invalid'; problem: string };
export type Cell = { kind: 'number'; value: number } | NotANumber;

export function isMissing(text: string): boolean {
  const trimmed = text.trim();
  // Ids and most cells are longer than any token or start differently, and then need no lower-cased copy.
  if (trimmed.length > LONGEST_MISSING_TOKEN || !MISSING_TOKEN_INITIALS.has(trimmed.slice(0, 1))) return false;
  return MISSING_TOKENS.has(trimmed.toLowerCase());
}

/**
 * The value of a plain finite number (surrounding blanks allowed), NaN for any other text. This is the reader's path
 * for nearly every cell, so it allocates nothing; `whyNotANumber` classifies the rest.
 */
export function plainNumber(text: string, decimalComma: boolean): number {
  const value = parsePlain(text, decimalComma);
  // NaN fails the comparison too. Values beyond what CKKS can encode are rejected here, at their row.
  return Math.abs(value) <= MAX_ENCRYPTABLE ? value : Number.NaN;
}

function parsePlain(text: string, decimalComma: boolean): number {
  const short = shortDecimal(text, decimalComma);
  if (!Number.isNaN(short)) return short;
  const trimmed = text.trim();
  if (!numberPattern(decimalComma).test(trimmed)) return Number.NaN;
  const value = Number(decimalComma ? trimmed.replace(',', '.') : trimmed);
  return Number.isFinite(value) ? value : Number.NaN;
}

/** Why `plainNumber` rejected `text`: a missing-value token, or a problem to report. */
export function whyNotANumber(text: string, decimalComma: boolean): NotANumber {
  const trimmed = text.trim();
  if (isMissing(trimmed)) return { kind: 'missing' };
  if (INFINITY_WORD.test(trimmed)) return { kind: 'invalid', problem: 'not a finite number' };
  // Text shaped like a number that plainNumber still rejected is either too large to encrypt or overflowed.
  if (numberPattern(decimalComma).test(trimmed)) {
    const finite = Number.isFinite(parsePlain(text, decimalComma));
    return { kind: 'invalid', problem: finite ? `beyond ±${MAX_ENCRYPTABLE.toExponential()}: too large to encrypt` : 'not a finite number' };
  }
  return { kind: 'invalid', problem: 'not a number' };
}

export function readNumber(text: string, decimalComma: boolean): Cell {
  const value = plainNumber(text, decimalComma);
  return Number.isNaN(value) ? whyNotANumber(text, decimalComma) : { kind: 'number', value };
}

// Integers up to 15 digits and these divisors are exact doubles, so one division rounds exactly as Number() does.
const MAX_EXACT_DIGITS = 15;
const POWERS_OF_TEN = Array.from({ length: MAX_EXACT_DIGITS + 1 }, (_, exponent) => 10 ** exponent);
const DIGIT_0 = '0'.charCodeAt(0);
const DIGIT_9 = '9'.charCodeAt(0);
const PLUS = '+'.charCodeAt(0);
const MINUS = '-'.charCodeAt(0);
const POINT = '.'.charCodeAt(0);
const COMMA = ','.charCodeAt(0);

/**
 * Monitors write numbers like "36.7" or "-12": sign, up to 15 digits, at most one decimal separator. Those are
 * computed here in one pass, without the regex and the string-to-number conversion; anything else (blanks,
 * exponents, longer numbers, text) gives NaN and takes the general path.
 */
function shortDecimal(text: string, decimalComma: boolean): number {
  let index = text.charCodeAt(0) === PLUS || text.charCodeAt(0) === MINUS ? 1 : 0;
  let mantissa = 0;
  let digits = 0;
  let fractionDigits = -1;
  for (; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= DIGIT_0 && code <= DIGIT_9) {
      mantissa = mantissa * 10 + (code - DIGIT_0);
      digits++;
      if (fractionDigits >= 0) fractionDigits++;
    } else if (fractionDigits < 0 && (code === POINT || (decimalComma && code === COMMA))) fractionDigits = 0;
    else return Number.NaN;
  }
  if (digits === 0 || digits > MAX_EXACT_DIGITS) return Number.NaN;
  const magnitude = fractionDigits > 0 ? mantissa / (POWERS_OF_TEN[fractionDigits] ?? Number.NaN) : mantissa;
  return text.charCodeAt(0) === MINUS ? -magnitude : magnitude;
}

function numberPattern(decimalComma: boolean): RegExp {
  return decimalComma ? COMMA_OR_POINT_NUMBER : PLAIN_NUMBER;
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
