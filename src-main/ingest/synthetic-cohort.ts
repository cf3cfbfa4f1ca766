import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gaussian, mulberry32 } from '../ml/random.ts';

export interface CohortOptions {
  patients: number;
  seed: number;
  hospitals?: number;
  atRiskFraction?: number;
}

export const COHORT_HEADER = 'hospital_id,patient_id,temperature_c,systolic_bp,diastolic_bp,respiratory_rate,spo2,at_risk';

/** Hard physiological limits (survivable extremes); generated values are clamped into them. */
const LIMITS = {
  temperature: [25, 45],
  systolic: [40, 300],
  diastolic: [20, 200],
  respiratory: [2, 80],
  spo2: [40, 100],
} as const;

/** Rough prevalence of deterioration on a general ward; also what the 3-in-19 pilot shows. */
const DEFAULT_AT_RISK_FRACTION = 0.15;
const DEFAULT_HOSPITALS = 3;

function clamp(value: number, [low, high]: readonly [number, number]): number {
  return Math.min(high, Math.max(low, value));
}

interface Vitals {
  temperature: number;
  systolic: number;
  respiratory: number;
  spo2: number;
}

/**
 * Stable ward patient: afebrile, normotensive, RR 12–20, SpO2 mostly 95–100 (skewed, it cannot exceed 100).
 * Spreads are wider than in healthy volunteers because these are still hospital patients.
 */
function healthyVitals(rand: () => number): Vitals {
  return {
    temperature: 36.8 + 0.45 * gaussian(rand),
    systolic: 124 + 16 * gaussian(rand),
    respiratory: 15.5 + 2.8 * gaussian(rand),
    spo2: 98.2 - Math.abs(1.9 * gaussian(rand)),
  };
}

/**
 * Deteriorating patient, modelled on what NEWS2 scores: each abnormality appears with some probability
 * and with a random severity, so mild cases sit inside the healthy range and the classes overlap the way
 * real triage data do. Blood pressure can go either way (septic hypotension or hypertensive crisis), which
 * a linear model cannot fully exploit; that is realistic, not a bug.
 */
function atRiskVitals(rand: () => number): Vitals {
  const severity = rand();
  const temperaturePattern = rand();
  const pressurePattern = rand();
  const temperature =
    temperaturePattern < 0.55
      ? 36.9 + severity * 2.6 + 0.5 * gaussian(rand) // fever
      : temperaturePattern < 0.7
        ? 36.6 - severity * 2.2 + 0.4 * gaussian(rand) // hypothermia
        : 37.0 + 0.5 * gaussian(rand);
  const systolic =
    pressurePattern < 0.4
      ? 120 - severity * 40 + 10 * gaussian(rand) // hypotension
      : pressurePattern < 0.6
        ? 125 + severity * 60 + 14 * gaussian(rand) // hypertension
        : 124 + 16 * gaussian(rand);
  return {
    temperature,
    systolic,
    respiratory: 15.5 + severity * 10 + 3.5 * gaussian(rand),
    spo2: 97.8 - severity * 6 - Math.abs(2.2 * gaussian(rand)),
  };
}

/*
 * Hospital exports list patients by record number (MRN), in an order that has nothing to do with the numbers:
 * ids counting up with the rows would flatter every index on them (each insert an append). The row index
 * through an affine permutation of [0, 10^8) (a multiplier coprime with 10) gives unique 8-digit MRNs in no
 * order, and a smaller cohort stays a prefix of a larger one with the same seed.
 */
const MRN_SPACE = 100_000_000;
// Odd and not a multiple of 5, so i -> i * MRN_STRIDE mod 10^8 is a bijection; below 2^53 / 10^8, so exact.
const MRN_STRIDE = 73_939_133;
const MRN_OFFSET = 12_345_679;

function mrn(i: number): string {
  return `MRN-${String((i * MRN_STRIDE + MRN_OFFSET) % MRN_SPACE).padStart(8, '0')}`;
}

function validate(opts: CohortOptions): { hospitals: number; atRiskFraction: number } {
  const hospitals = opts.hospitals ?? DEFAULT_HOSPITALS;
  const atRiskFraction = opts.atRiskFraction ?? DEFAULT_AT_RISK_FRACTION;
  if (!Number.isInteger(opts.patients) || opts.patients < 0 || opts.patients > MRN_SPACE) {
    throw new RangeError(`cohort: patients must be an integer from 0 to ${MRN_SPACE}, got ${opts.patients}`);
  }
  if (!Number.isInteger(hospitals) || hospitals < 1) {
    throw new RangeError(`cohort: hospitals must be a positive integer, got ${hospitals}`);
  }
  if (!(atRiskFraction >= 0 && atRiskFraction <= 1)) {
    throw new RangeError(`cohort: atRiskFraction must be in [0, 1], got ${atRiskFraction}`);
  }
  return { hospitals, atRiskFraction };
}

/**
 * Seeded synthetic cohort as CSV lines (no trailing newline): the header, then one patient per line.
 * Lazily generated so callers can stream arbitrarily large cohorts. Identical options give identical lines.
 */
export function* cohortRows(opts: CohortOptions): Generator<string> {
  const { hospitals, atRiskFraction } = validate(opts);
  const rand = mulberry32(opts.seed);
  const hospitalWidth = Math.max(2, String(hospitals).length);
  yield COHORT_HEADER;
  for (let i = 0; i < opts.patients; i++) {
    const hospital = `H-${String(1 + Math.floor(rand() * hospitals)).padStart(hospitalWidth, '0')}`;
    const patient = mrn(i);
    const atRisk = rand() < atRiskFraction;
    const v = atRisk ? atRiskVitals(rand) : healthyVitals(rand);
    // Monitors print temperature to 0.1 °C and the rest as integers; rounding here makes the synthetic
    // data carry the same quantisation as real exports.
    const temperature = clamp(Math.round(v.temperature * 10) / 10, LIMITS.temperature);
    const systolic = Math.round(clamp(v.systolic, LIMITS.systolic));
    // Diastolic tracks systolic (pulse pressure ~30–50 mmHg) and must stay below it.
    const diastolic = Math.round(
      clamp(Math.min(0.45 * systolic + 23 + 7 * gaussian(rand), systolic - 10), LIMITS.diastolic),
    );
    const respiratory = Math.round(clamp(v.respiratory, LIMITS.respiratory));
    const spo2 = Math.round(clamp(v.spo2, LIMITS.spo2));
    yield `${hospital},${patient},${temperature.toFixed(1)},${systolic},${diastolic},${respiratory},${spo2},${atRisk ? 1 : 0}`;
  }
}

/** Lines per stream chunk: one write per line would mean a million tiny writes for a large cohort. */
const LINES_PER_CHUNK = 4096;

function* chunked(lines: Iterable<string>): Generator<string> {
  let batch: string[] = [];
  for (const line of lines) {
    batch.push(line);
    if (batch.length === LINES_PER_CHUNK) {
      yield `${batch.join('\n')}\n`;
      batch = [];
    }
  }
  if (batch.length > 0) yield `${batch.join('\n')}\n`;
}

/** Streams the cohort to disk with backpressure, so memory stays flat regardless of the number of patients. */
export async function writeCohortCsv(path: string, opts: CohortOptions): Promise<void> {
  await pipeline(Readable.from(chunked(cohortRows(opts))), createWriteStream(path, { encoding: 'utf8' }));
}
