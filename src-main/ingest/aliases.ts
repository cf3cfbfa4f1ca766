import { type Quantity, QUANTITIES, type Unit } from './quantities.ts';

/**
 * Matching key for a header: case, units in parentheses/brackets and punctuation do not matter, so
 * "Body Temp (°F)", "body_temp" and "BodyTemp" all meet at "bodytemp".
 */
export function normalizeHeader(header: string): string {
  return header
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\([^)]*\)|\[[^\]]*\]/g, '')
    .replace(/[^a-z0-9]/g, '');
}

const VITAL_ALIASES: Readonly<Record<Quantity | 'blood_pressure', readonly string[]>> = {
  temperature: ['temperature', 'temp', 'bodytemp', 'bodytemperature'],
  systolic_bp: [
    'systolic', 'systolicbp', 'systolicbloodpressure', 'systolicpressure', 'sbp', 'sysbp', 'sys', 'bpsystolic', 'bpsys',
    'nibpsystolic', 'nibpsys',
  ],
  diastolic_bp: [
    'diastolic', 'diastolicbp', 'diastolicbloodpressure', 'diastolicpressure', 'dbp', 'diabp', 'dia', 'bpdiastolic',
    'bpdia', 'nibpdiastolic', 'nibpdia',
  ],
  respiratory_rate: [
    'respiratoryrate', 'resprate', 'respiration', 'respirationrate', 'respirations', 'respiratory', 'resp', 'rr',
    'breathingrate',
  ],
  spo2: ['spo2', 'sao2', 'o2sat', 'o2sats', 'o2saturation', 'oxygensaturation', 'sats', 'pulseox', 'pulseoximetry'],
  heart_rate: ['heartrate', 'hr', 'pulse', 'pulserate'],
  weight: ['weight', 'wt', 'bodyweight', 'bodymass', 'mass'],
  height: ['height', 'ht', 'bodyheight', 'stature', 'length'],
  glucose: ['glucose', 'bloodglucose', 'bloodsugar', 'glu', 'glc', 'bg', 'bs', 'bloodsugarlevel', 'glucoselevel'],
  blood_pressure: ['bp', 'bloodpressure', 'nibp'],
};
const HOSPITAL_ALIASES = [
  'hospital', 'hospitalid', 'site', 'siteid', 'facility', 'facilityid', 'center', 'centre', 'centerid',
];
const PATIENT_ALIASES = ['patientid', 'patient', 'mrn', 'subjectid', 'subject', 'id', 'patientnumber', 'patientno'];
const LABEL_ALIASES = ['atrisk', 'label', 'risk', 'outcome', 'target'];

// Units written without brackets end up glued to the key ("Temp °F" -> "tempf", "SBP mmHg" -> "sbpmmhg").
const UNIT_SUFFIXES = [
  'mmhg', 'bpm', 'degf', 'degc', 'fahrenheit', 'celsius', 'centigrade', 'f', 'c', 'percent', 'pct', 'perminute',
  'permin', 'breathsperminute', 'breathsmin', 'min', 'kgs', 'kg', 'lbs', 'lb', 'cm', 'in', 'm', 'mgdl', 'mmoll', 'mmol',
];

export type ColumnRole =
  | { role: 'vital'; kind: Quantity }
  | { role: 'blood_pressure' }
  | { role: 'hospital' }
  | { role: 'patient' }
  | { role: 'label' };

const ROLE_BY_KEY = new Map<string, ColumnRole>();
for (const [kind, keys] of Object.entries(VITAL_ALIASES) as [Quantity | 'blood_pressure', readonly string[]][]) {
  const role: ColumnRole = kind === 'blood_pressure' ? { role: 'blood_pressure' } : { role: 'vital', kind };
  for (const key of keys) ROLE_BY_KEY.set(key, role);
}
for (const key of HOSPITAL_ALIASES) ROLE_BY_KEY.set(key, { role: 'hospital' });
for (const key of PATIENT_ALIASES) ROLE_BY_KEY.set(key, { role: 'patient' });
for (const key of LABEL_ALIASES) ROLE_BY_KEY.set(key, { role: 'label' });

const isVitalRole = (role: ColumnRole | undefined): boolean =>
  role?.role === 'vital' || role?.role === 'blood_pressure';

export function roleOf(header: string): ColumnRole | null {
  const key = normalizeHeader(header);
  const direct = ROLE_BY_KEY.get(key);
  if (direct) return direct;
  // Only vitals carry units, and stripping a trailing "c" elsewhere would turn e.g. "Site C" into a hospital column.
  for (const suffix of UNIT_SUFFIXES) {
    if (key.length > suffix.length && key.endsWith(suffix)) {
      const role = ROLE_BY_KEY.get(key.slice(0, -suffix.length));
      if (role && isVitalRole(role)) return role;
    }
  }
  return null;
}

function unitText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/℉/g, 'degf').replace(/℃/g, 'degc').replace(/°/g, 'deg').replace(/[^a-z0-9%]/g, '');
}

/**
 * A header's words: what brackets hold taken whole ("Glucose (mg/dL)": mgdl), "a/b" outside them joined
 * ("Glucose mg/dL": mgdl), the rest split at camelCase and punctuation, ° read as "deg".
 */
function headerWords(header: string): string[] {
  const bracketed = [...header.matchAll(/\(([^)]*)\)|\[([^\]]*)\]/g)].map((m) => unitText(m[1] ?? m[2] ?? ''));
  const rest = header
    .replace(/\([^)]*\)|\[[^\]]*\]/g, ' ')
    .replace(/([A-Za-z]+)\/([A-Za-z]+)/g, (_, a: string, b: string) => ` ${unitText(a + b)} `)
    .normalize('NFKC')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/℉/g, ' degf ')
    .replace(/℃/g, ' degc ')
    .replace(/°\s*/g, ' deg')
    .split(/[^a-z0-9%]+/);
  return [...bracketed, ...rest].filter((word) => word !== '');
}

/**
 * The unit a header states for a recognised quantity ("Body Temp (°F)", "temp_f", "TempF", "Weight (lbs)",
 * "Glucose mg/dL"), or null when it states none, or more than one.
 */
export function headerUnit(quantity: Quantity, header: string): Unit | null {
  const words = headerWords(header);
  const key = normalizeHeader(header);
  const aliases = VITAL_ALIASES[quantity];
  const glued = (word: string): boolean => aliases.some((alias) => key === alias + word);
  const stated = QUANTITIES[quantity].units.filter((u) =>
    u.words.some((w) => words.includes(w) || words.includes(`deg${w}`) || glued(w) || glued(`deg${w}`)),
  );
  return stated.length === 1 ? stated[0]! : null;
}

/** Unit text a generic header carries in parentheses or brackets, e.g. "Glucose (mg/dL)" -> "mg/dL". */
export function bracketedUnit(header: string): string {
  return /\(([^)]*)\)|\[([^\]]*)\]/.exec(header)?.slice(1).find((group) => group !== undefined)?.trim() ?? '';
}
