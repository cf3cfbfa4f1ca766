import { basename, extname } from 'node:path';
import { bracketedUnit, roleOf, temperatureUnitFromName, type ColumnRole } from './aliases.ts';
import { abortError, MalformedCsvError, planError } from './errors.ts';
import { automaticLabel, distinctLabelValues, labelWithPositive, PASS_POSITIVE, type LabelReader } from './labels.ts';
import { parseRecords, sniffDelimiter } from './source.ts';
import type { ColumnPlan, Delimiter, FeatureSpec, IngestOptions } from './types.ts';
import {
  canonicalVital,
  formatRange,
  normalizeVital,
  rangeProblem,
  REQUIRED_VITALS,
  VITAL_ORDER,
  VITAL_RULES,
  type TemperatureUnit,
  type VitalKind,
} from './units.ts';
import { plainNumber, readBloodPressure, readNumber, whyNotANumber } from './values.ts';

// The plan looks at a bounded sample only: enough values per column to tell numbers from text.
const SAMPLE_VALUES_PER_COLUMN = 200;
const SAMPLE_MAX_ROWS = 5000;

type FieldOutcome = { kind: 'ok' } | { kind: 'missing' } | { kind: 'invalid'; problem: string };
const OK: FieldOutcome = { kind: 'ok' };
const MISSING: FieldOutcome = { kind: 'missing' };

/** Reads one source cell into its feature slot(s) of `row`, already in canonical units. */
export interface FieldReader {
  index: number;
  column: string;
  read(text: string, row: Float64Array): FieldOutcome;
}

interface ColumnRef {
  index: number;
  column: string;
}

/** What the reader needs beyond the public plan: column positions and value converters. */
export interface Layout {
  file: string;
  fileStem: string;
  delimiter: Delimiter;
  width: number;
  featureCount: number;
  fields: FieldReader[];
  /** Feature slots checked for diastolic < systolic, when the plan has exactly one of each. */
  pressurePair: { systolic: number; diastolic: number; column: string } | null;
  label: (ColumnRef & { read: LabelReader }) | null;
  hospital: ColumnRef | null;
  patient: ColumnRef | null;
  defaultHospital: string;
  missing: 'reject' | 'drop';
}

/** A record of only empty fields, as spreadsheets write for trailing ";;;" lines, counts as a blank line. */
export function isBlank(fields: readonly string[]): boolean {
  return fields.every((field) => field === '');
}

const quoteNames = (columns: readonly { name: string }[], separator = ', '): string =>
  columns.map(({ name }) => JSON.stringify(name)).join(separator);

export async function planColumns(path: string, options: IngestOptions = {}): Promise<ColumnPlan> {
  return (await preparePlan(path, options)).plan;
}

export async function preparePlan(path: string, options: IngestOptions): Promise<{ plan: ColumnPlan; layout: Layout }> {
  const file = basename(path);
  if (options.signal?.aborted) throw abortError(file);
  const delimiter = await sniffDelimiter(path, file);
  const { header, samples } = await readSample(path, delimiter, file, options.signal);
  return decide({ file, delimiter, header, samples, options });
}

async function readSample(
  path: string,
  delimiter: Delimiter,
  file: string,
  signal: AbortSignal | undefined,
): Promise<{ header: string[]; samples: string[][] }> {
  const sample = new Sample();
  try {
    for await (const _ of parseRecords(path, delimiter, { file, signal }, sample.take)) if (sample.full) break;
  } catch (error) {
    // Past the header the sample so far is enough to plan; the full read reports the broken row with the others.
    if (!(error instanceof MalformedCsvError)) throw error;
    if (sample.header === null) throw planError(file, null, error.message, error.line);
  }
  if (sample.header === null) throw planError(file, null, 'the file has no header line');
  return { header: sample.header, samples: sample.values };
}

/** The header and the first values of each column, up to the sampling limits. */
class Sample {
  header: string[] | null = null;
  values: string[][] = [];
  full = false;
  private rows = 0;

  readonly take = (_line: number, fields: string[]): void => {
    if (this.full || isBlank(fields)) return;
    if (this.header === null) {
      this.header = fields.map((name) => name.trim());
      this.values = this.header.map(() => []);
      return;
    }
    fields.forEach((text, index) => {
      const values = this.values[index];
      if (values && values.length < SAMPLE_VALUES_PER_COLUMN && text.trim() !== '') values.push(text);
    });
    this.rows++;
    this.full =
      this.rows >= SAMPLE_MAX_ROWS || this.values.every((values) => values.length >= SAMPLE_VALUES_PER_COLUMN);
  };
}

interface DecideInput {
  file: string;
  delimiter: Delimiter;
  header: string[];
  samples: string[][];
  options: IngestOptions;
}

interface Column {
  index: number;
  name: string;
  role: ColumnRole | null;
  sample: string[];
}

function decide(input: DecideInput): { plan: ColumnPlan; layout: Layout } {
  const { file, delimiter, header, options } = input;
  const notes: string[] = [];
  const decimalComma = delimiter === ';';
  notes.push(`delimiter: ${JSON.stringify(delimiter)}, the one that splits the header line into the most fields`);
  if (decimalComma) notes.push('numbers: decimal comma accepted ("37,2" = 37.2) because the delimiter is ";"');
  notes.push('blank lines and rows of only empty fields are skipped');

  const columns: Column[] = [];
  const unnamed: number[] = [];
  header.forEach((name, index) => {
    if (name === '') unnamed.push(index + 1);
    else columns.push({ index, name, role: roleOf(name), sample: input.samples[index] ?? [] });
  });
  if (columns.length === 0) throw planError(file, null, 'the header line has no column names');
  if (unnamed.length > 0) notes.push(`column(s) ${unnamed.join(', ')} have no name in the header and are ignored`);
  const seenNames = new Set<string>();
  for (const { name } of columns) {
    if (seenNames.has(name)) throw planError(file, name, 'this column name appears more than once in the header');
    seenNames.add(name);
  }

  const available = (): string => quoteNames(columns);
  const findColumn = (wanted: string, what: string): Column => {
    const trimmed = wanted.trim();
    const exact = columns.find(({ name }) => name === trimmed);
    const folded = columns.filter(({ name }) => name.toLowerCase() === trimmed.toLowerCase());
    const found = exact ?? (folded.length === 1 ? folded[0] : undefined);
    if (found) return found;
    throw planError(file, null, `${what} column "${trimmed}" is not in the header; columns are ${available()}`);
  };
  const single = (role: ColumnRole['role'], what: string, exclude: ReadonlySet<Column>): Column | null => {
    const matches = columns.filter((column) => column.role?.role === role && !exclude.has(column));
    if (matches.length > 1) {
      throw planError(file, null, `columns ${quoteNames(matches, ' and ')} all look like the ${what}; keep only one`);
    }
    return matches[0] ?? null;
  };

  const explicitFeatures = options.features?.map((name) => findColumn(name, 'feature'));
  const explicitLabel = options.label === undefined ? null : findColumn(options.label, 'label');
  const schema = chooseSchema(
    columns.filter((column) => column !== explicitLabel),
    options,
    notes,
    file,
    available,
  );
  if (schema === 'vitals' && explicitFeatures) {
    throw planError(file, null, 'the features option applies to the generic schema only');
  }

  // A column the caller named as a feature is never taken as the label by name.
  const label = explicitLabel ?? single('label', 'label', new Set(explicitFeatures ?? []));
  const hospital = single('hospital', 'hospital id', new Set(label ? [label] : []));
  const patient = single('patient', 'patient id', new Set(label ? [label] : []));
  const labelReader = label
    ? planLabel(label, options.positive, decimalComma, explicitLabel !== null, notes, file)
    : null;
  if (!label && options.positive !== undefined) {
    const problem = `a positive label value was given but no label column was found; columns are ${available()}`;
    throw planError(file, null, problem);
  }
  notes.push(
    hospital
      ? `hospital: column "${hospital.name}"`
      : `hospital: no hospital column; every row gets "${options.hospital ?? 'unknown'}"`,
  );
  const fileStem = basename(file, extname(file));
  notes.push(
    patient
      ? `patient id: column "${patient.name}"; duplicates within a hospital are errors`
      : `patient id: no id column; ids are "${fileStem}-<row>"`,
  );

  const reserved = new Set([label, hospital, patient].filter((column) => column !== null));
  if (explicitFeatures?.some((column) => column === label)) {
    throw planError(file, label?.name ?? null, 'the label column cannot also be a feature');
  }
  const built =
    schema === 'vitals'
      ? vitalsFeatures(columns, reserved, decimalComma, notes, file)
      : genericFeatures(explicitFeatures ?? autoFeatures(columns, reserved, decimalComma, notes), decimalComma, notes);

  const missing = options.missing ?? 'reject';
  notes.push(
    missing === 'drop'
      ? 'missing values: rows with an empty or NA feature, hospital or patient id are dropped and counted'
      : 'missing values: an empty or NA feature, hospital or patient id is an error',
  );

  const plan: ColumnPlan = {
    schema,
    delimiter,
    features: built.specs,
    label: label ? { source: label.name, positive: options.positive ?? null } : null,
    hospitalColumn: hospital?.name ?? null,
    patientColumn: patient?.name ?? null,
    notes,
  };
  const layout: Layout = {
    file,
    fileStem,
    delimiter,
    width: header.length,
    featureCount: built.specs.length,
    fields: built.fields,
    pressurePair: built.pressurePair,
    label: label && labelReader ? { index: label.index, column: label.name, read: remembered(labelReader) } : null,
    hospital: hospital ? { index: hospital.index, column: hospital.name } : null,
    patient: patient ? { index: patient.index, column: patient.name } : null,
    defaultHospital: options.hospital ?? 'unknown',
    missing,
  };
  return { plan, layout };
}

// Label columns hold a few spellings ("0"/"1", "yes"/"no"), so each is interpreted once rather than per row. The
// bound matters with a positive value, where any text is accepted and a column could hold one per row.
const REMEMBERED_LABELS = 64;

function remembered(read: LabelReader): LabelReader {
  const known = new Map<string, number | null>();
  return (text) => {
    const value = known.get(text);
    if (value !== undefined) return value;
    const fresh = read(text);
    if (known.size < REMEMBERED_LABELS) known.set(text, fresh);
    return fresh;
  };
}

function chooseSchema(
  columns: readonly Column[],
  options: IngestOptions,
  notes: string[],
  file: string,
  available: () => string,
): 'vitals' | 'generic' {
  const present = new Set<VitalKind>();
  for (const { role } of columns) {
    if (role?.role === 'vital') present.add(role.kind);
    if (role?.role === 'blood_pressure') {
      present.add('systolic_bp');
      present.add('diastolic_bp');
    }
  }
  const absent = REQUIRED_VITALS.filter((kind) => !present.has(kind));
  const requested = options.schema ?? 'auto';
  if (requested === 'vitals' && absent.length > 0) {
    const problem = `the vitals schema needs ${absent.join(', ')}, which the header lacks; columns are ${available()}`;
    throw planError(file, null, problem);
  }
  if (requested === 'generic' || (requested === 'auto' && (absent.length > 0 || options.features !== undefined))) {
    const lacks = `header lacks ${absent.join(', ')}`;
    const why = requested === 'generic' ? 'requested' : options.features ? 'features were given' : lacks;
    notes.push(`schema: generic (${why})`);
    return 'generic';
  }
  notes.push(`schema: vitals (${requested === 'vitals' ? 'requested' : 'header has every required vital sign'})`);
  return 'vitals';
}

function planLabel(
  column: Column,
  positive: string | undefined,
  decimalComma: boolean,
  explicit: boolean,
  notes: string[],
  file: string,
): LabelReader {
  const how = explicit ? 'as requested' : 'detected by name';
  if (positive !== undefined) {
    if (positive.trim() === '') throw planError(file, column.name, 'the positive label value is empty');
    notes.push(
      `label: column "${column.name}" (${how}); "${positive.trim()}" means at-risk (1), ` +
        'any other text 0, empty unknown',
    );
    const read = labelWithPositive(positive);
    if (!column.sample.some((text) => read(text) === 1)) {
      notes.push(`label: warning, the positive value does not occur in the first ${column.sample.length} labels`);
    }
    return read;
  }
  const read = automaticLabel(decimalComma);
  if (column.sample.some((text) => read(text) === null)) {
    // Label texts are patient data, so only their number is reported.
    const distinct = distinctLabelValues(column.sample).size;
    throw planError(
      file,
      column.name,
      `label has ${distinct} distinct values in the sampled rows and they are not yes/no style; ${PASS_POSITIVE}`,
    );
  }
  notes.push(
    `label: column "${column.name}" (${how}); 1/0, yes/no, true/false, at risk/healthy style values, empty unknown`,
  );
  return read;
}

interface BuiltFeatures {
  specs: FeatureSpec[];
  fields: FieldReader[];
  pressurePair: Layout['pressurePair'];
}

function vitalsFeatures(
  columns: readonly Column[],
  reserved: ReadonlySet<Column>,
  decimalComma: boolean,
  notes: string[],
  file: string,
): BuiltFeatures {
  const usable = columns.filter((column) => !reserved.has(column));
  const byKind = new Map<VitalKind, Column>();
  for (const kind of VITAL_ORDER) {
    const matches = usable.filter(({ role }) => role?.role === 'vital' && role.kind === kind);
    if (matches.length > 1) {
      throw planError(file, null, `columns ${quoteNames(matches, ' and ')} all look like ${kind}; keep only one`);
    }
    if (matches[0]) byKind.set(kind, matches[0]);
  }
  const combined = usable.filter(({ role }) => role?.role === 'blood_pressure');
  const separatePressure = byKind.has('systolic_bp') && byKind.has('diastolic_bp');
  const builder = new FeatureBuilder(decimalComma, notes);
  let pressureDone = false;
  for (const kind of VITAL_ORDER) {
    if ((kind === 'systolic_bp' || kind === 'diastolic_bp') && !separatePressure) {
      if (pressureDone) continue;
      const [source, ...others] = combined;
      if (!source) continue;
      if (others.length > 0) throw planError(file, null, 'more than one combined blood pressure column; keep only one');
      builder.addPressure(source, 'systolic_bp', 'diastolic_bp');
      pressureDone = true;
      continue;
    }
    const column = byKind.get(kind);
    if (column) builder.addVital(column, kind, kind);
  }
  if (separatePressure && combined.length > 0) {
    const combinedNames = quoteNames(combined);
    notes.push(`blood pressure: separate systolic/diastolic columns used; combined column(s) ${combinedNames} ignored`);
  }
  const used = new Set(builder.sources);
  const ignored = usable.filter((column) => !used.has(column));
  if (ignored.length > 0) notes.push(`ignored columns (not vitals): ${quoteNames(ignored)}`);
  return builder.result();
}

function autoFeatures(
  columns: readonly Column[],
  reserved: ReadonlySet<Column>,
  decimalComma: boolean,
  notes: string[],
): Column[] {
  const chosen: Column[] = [];
  for (const column of columns) {
    if (reserved.has(column)) continue;
    // Known vitals are numeric by definition, so a bad cell in the sample becomes a row error, not a lost column.
    const known = column.role?.role === 'vital' || column.role?.role === 'blood_pressure';
    const cells = column.sample.map((text) => readNumber(text, decimalComma));
    const numbers = cells.filter((cell) => cell.kind === 'number').length;
    const textual = cells.some((cell) => cell.kind === 'invalid' && cell.problem === 'not a number');
    if (known || (numbers > 0 && !textual)) chosen.push(column);
    else if (numbers === 0 && !textual) notes.push(`"${column.name}": no values in the sample; not used as a feature`);
    else notes.push(`"${column.name}": not numeric in the sample; not used as a feature`);
  }
  return chosen;
}

/*
 * The generic schema makes no clinical assumption about a column, even one named like a vital: values are
 * used as given, without unit conversion or physiological range checks (standard scaling makes the model
 * unit-independent anyway). Those checks belong to the vitals schema. A combined "120/80" column is still
 * split, since it is not a number otherwise.
 */
function genericFeatures(chosen: readonly Column[], decimalComma: boolean, notes: string[]): BuiltFeatures {
  const builder = new FeatureBuilder(decimalComma, notes);
  if (chosen.some((c) => c.role?.role === 'vital')) {
    notes.push('generic schema: values are used as given; unit conversion and physiological range checks apply to the vitals schema only');
  }
  for (const column of chosen) {
    const role = column.role;
    if (role?.role === 'blood_pressure') {
      builder.addPressure(column, `${column.name} systolic`, `${column.name} diastolic`);
    }
    else builder.addPlain(column);
  }
  return builder.result();
}

class FeatureBuilder {
  readonly specs: FeatureSpec[] = [];
  readonly fields: FieldReader[] = [];
  readonly sources: Column[] = [];
  readonly decimalComma: boolean;
  readonly notes: string[];
  private systolicSlots: { slot: number; column: string }[] = [];
  private diastolicSlots: { slot: number; column: string }[] = [];

  constructor(decimalComma: boolean, notes: string[]) {
    this.decimalComma = decimalComma;
    this.notes = notes;
  }

  addPlain(column: Column): void {
    const slot = this.addSpec({ name: column.name, source: column.name, unit: bracketedUnit(column.name) }, column);
    const decimalComma = this.decimalComma;
    this.fields.push({
      index: column.index,
      column: column.name,
      read(text, row) {
        const value = plainNumber(text, decimalComma);
        if (Number.isNaN(value)) return whyNotANumber(text, decimalComma);
        row[slot] = value;
        return OK;
      },
    });
  }

  addVital(column: Column, kind: VitalKind, name: string): void {
    const rule = VITAL_RULES[kind];
    const slot = this.addSpec({ name, source: column.name, unit: rule.unit, range: [...rule.range] }, column);
    const temperatureUnit = kind === 'temperature' ? this.noteTemperature(column) : null;
    if (kind === 'spo2') this.notes.push(`${name}: values in (0, 1] are fractions and are multiplied by 100`);
    if (kind === 'systolic_bp') this.systolicSlots.push({ slot, column: column.name });
    if (kind === 'diastolic_bp') this.diastolicSlots.push({ slot, column: column.name });
    this.noteRange(name, kind);
    const decimalComma = this.decimalComma;
    this.fields.push({
      index: column.index,
      column: column.name,
      read(text, row) {
        const value = plainNumber(text, decimalComma);
        if (Number.isNaN(value)) return whyNotANumber(text, decimalComma);
        const canonical = canonicalVital(kind, value, temperatureUnit);
        if (Number.isNaN(canonical)) return { kind: 'invalid', problem: rangeProblem(kind, temperatureUnit) };
        row[slot] = canonical;
        return OK;
      },
    });
  }

  addPressure(column: Column, systolicName: string, diastolicName: string): void {
    const spec = (name: string, kind: VitalKind): FeatureSpec => {
      const rule = VITAL_RULES[kind];
      return { name, source: column.name, unit: rule.unit, range: [...rule.range] };
    };
    const systolic = this.addSpec(spec(systolicName, 'systolic_bp'), column);
    const diastolic = this.addSpec(spec(diastolicName, 'diastolic_bp'), column);
    this.systolicSlots.push({ slot: systolic, column: column.name });
    this.diastolicSlots.push({ slot: diastolic, column: column.name });
    this.notes.push(`blood pressure: column "${column.name}" split at "/" into ${systolicName} and ${diastolicName}`);
    for (const [name, kind] of [[systolicName, 'systolic_bp'], [diastolicName, 'diastolic_bp']] as const) {
      this.noteRange(name, kind);
    }
    const decimalComma = this.decimalComma;
    this.fields.push({
      index: column.index,
      column: column.name,
      read(text, row) {
        const cell = readBloodPressure(text, decimalComma);
        if (cell.kind !== 'pair') return cell.kind === 'missing' ? MISSING : cell;
        const high = normalizeVital('systolic_bp', cell.systolic, null);
        const low = normalizeVital('diastolic_bp', cell.diastolic, null);
        const problems = [high.ok ? null : `systolic ${high.problem}`, low.ok ? null : `diastolic ${low.problem}`];
        if (!high.ok || !low.ok) return { kind: 'invalid', problem: problems.filter((p) => p !== null).join('; ') };
        row[systolic] = high.value;
        row[diastolic] = low.value;
        return OK;
      },
    });
  }

  result(): BuiltFeatures {
    const [systolic, ...moreSystolic] = this.systolicSlots;
    const [diastolic, ...moreDiastolic] = this.diastolicSlots;
    const paired = systolic && diastolic && moreSystolic.length === 0 && moreDiastolic.length === 0;
    if (paired) this.notes.push('blood pressure: diastolic must be below systolic');
    return {
      specs: this.specs,
      fields: this.fields,
      pressurePair: paired ? { systolic: systolic.slot, diastolic: diastolic.slot, column: diastolic.column } : null,
    };
  }

  private addSpec(spec: FeatureSpec, column: Column): number {
    this.specs.push(spec);
    if (!this.sources.includes(column)) this.sources.push(column);
    return this.specs.length - 1;
  }

  private noteRange(name: string, kind: VitalKind): void {
    const rule = VITAL_RULES[kind];
    const range = formatRange(rule.range, rule.unit);
    this.notes.push(`${name}: must lie in ${range}; values outside are errors, never clipped`);
  }

  private noteTemperature(column: Column): TemperatureUnit | null {
    const unit = temperatureUnitFromName(column.name);
    if (unit === 'F') this.notes.push(`temperature: °F by column name "${column.name}", converted to °C`);
    else if (unit === 'C') this.notes.push(`temperature: °C by column name "${column.name}"`);
    else {
      this.notes.push(
        `temperature: column "${column.name}" names no unit; per value 25–45 is °C and 77–113 is °F ` +
          '(converted to °C), anything else is an error',
      );
    }
    return unit;
  }
}
