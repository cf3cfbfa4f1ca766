import { basename, extname } from 'node:path';
import { bracketedUnit, headerUnit, roleOf, type ColumnRole } from './aliases.ts';
import { abortError, MalformedCsvError, planError } from './errors.ts';
import { automaticLabel, distinctLabelValues, labelWithPositive, PASS_POSITIVE, type LabelReader } from './labels.ts';
import { parseRecords, sniffDelimiter } from './source.ts';
import type { ColumnPlan, Delimiter, FeatureSpec, IngestOptions } from './types.ts';
import { CORE_VITALS, formatRange, type Quantity, QUANTITIES, rangeProblem, toCanonical, type Unit, unitByValues, unitNamed } from './quantities.ts';
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
  for (const name of [...Object.keys(options.units ?? {}), ...Object.keys(options.ranges ?? {})]) findColumn(name, 'unit or range');
  const schema = options.schema ?? 'auto';
  notes.push(
    schema === 'generic'
      ? 'schema: generic (requested): every column used as given, no unit conversion or range check'
      : 'columns: each known quantity (vital signs, weight, height, glucose) recognised on its own, converted and range-checked; other numeric columns used as given',
  );

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
  const built = buildFeatures({
    columns: explicitFeatures ?? autoFeatures(columns, reserved, decimalComma, notes),
    recognise: schema !== 'generic',
    options,
    decimalComma,
    notes,
    file,
  });
  const recognised = new Set(built.specs.map((f) => f.recognisedAs));
  const absent = CORE_VITALS.filter((q) => !recognised.has(q));
  if (schema === 'vitals' && absent.length > 0) {
    throw planError(file, null, `the vitals schema needs ${absent.join(', ')}, which the header lacks; columns are ${available()}`);
  }

  const missing = options.missing ?? 'reject';
  notes.push(
    missing === 'drop'
      ? 'missing values: rows with an empty or NA feature, hospital or patient id are dropped and counted'
      : 'missing values: an empty or NA feature, hospital or patient id is an error',
  );

  const plan: ColumnPlan = {
    schema: schema === 'generic' ? 'generic' : absent.length === 0 ? 'vitals' : 'auto',
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

interface FeatureInput {
  columns: readonly Column[];
  /** false: the generic schema, every column as given. */
  recognise: boolean;
  options: IngestOptions;
  decimalComma: boolean;
  notes: string[];
  file: string;
}

/**
 * Features in column order. With recognition on, each column a known quantity names is converted to its
 * canonical unit and range-checked, whatever else the file holds; two columns of one quantity are an error (pick
 * one with --features); a combined "120/80" column is split unless separate pressures exist. Any other numeric
 * column is used as given, checked against a range only when the user declared one.
 */
function buildFeatures(input: FeatureInput): BuiltFeatures {
  const { columns, recognise, options, decimalComma, notes, file } = input;
  const builder = new FeatureBuilder(decimalComma, notes);
  const quantityOf = (c: Column): Quantity | null => (recognise && c.role?.role === 'vital' ? c.role.kind : null);
  for (const quantity of Object.keys(QUANTITIES) as Quantity[]) {
    const matches = columns.filter((c) => quantityOf(c) === quantity);
    if (matches.length > 1) throw planError(file, null, `columns ${quoteNames(matches, ' and ')} all look like ${quantity}; keep only one (--features)`);
  }
  const combined = columns.filter((c) => c.role?.role === 'blood_pressure');
  const separatePressure = columns.some((c) => quantityOf(c) === 'systolic_bp') && columns.some((c) => quantityOf(c) === 'diastolic_bp');
  if (recognise && !separatePressure && combined.length > 1) throw planError(file, null, 'more than one combined blood pressure column; keep only one');
  for (const column of columns) {
    const quantity = quantityOf(column);
    if (quantity) {
      builder.addQuantity(column, quantity, unitOf(column, quantity, options, decimalComma, file));
    } else if (column.role?.role === 'blood_pressure') {
      if (recognise && separatePressure) {
        notes.push(`blood pressure: separate systolic/diastolic columns used; combined column "${column.name}" ignored`);
      } else if (recognise) {
        builder.addPressure(column, 'systolic_bp', 'diastolic_bp');
      } else {
        builder.addPressure(column, `${column.name} systolic`, `${column.name} diastolic`);
      }
    } else {
      builder.addPlain(column, declaredRange(options, column.name));
    }
  }
  return builder.result();
}

/** What the user said of a column by name (a column's name as the header writes it, or in another case). */
function byColumn<T>(map: Record<string, T> | undefined, column: string): T | undefined {
  if (!map) return undefined;
  const key = Object.keys(map).find((k) => k === column) ?? Object.keys(map).find((k) => k.toLowerCase() === column.toLowerCase());
  return key === undefined ? undefined : map[key];
}

function declaredRange(options: IngestOptions, column: string): [number, number] | undefined {
  const range = byColumn(options.ranges, column);
  if (range && !(Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] < range[1])) {
    throw new RangeError(`the range of "${column}" must run from a low to a higher number`);
  }
  return range;
}

/**
 * The unit a recognised column is in: as the user stated it (--unit), as its header states it, its quantity's only
 * unit, or the one unit every sampled value fits. Anything else is an error that asks for the unit.
 */
function unitOf(column: Column, quantity: Quantity, options: IngestOptions, decimalComma: boolean, file: string): { unit: Unit; from: NonNullable<FeatureSpec['sourceUnit']>['from'] } {
  const rule = QUANTITIES[quantity];
  const choices = rule.units.map((u) => u.id).join(', ');
  const typed = byColumn(options.units, column.name);
  if (typed !== undefined) {
    const unit = unitNamed(quantity, typed);
    if (!unit) throw planError(file, column.name, `unit "${typed.slice(0, 20)}" is not one of ${quantity}'s units (${choices})`);
    return { unit, from: 'option' };
  }
  const stated = headerUnit(quantity, column.name);
  if (stated) return { unit: stated, from: 'header' };
  if (rule.units.length === 1) return { unit: rule.units[0]!, from: 'only unit' };
  const values = column.sample.map((text) => plainNumber(text, decimalComma)).filter((v) => !Number.isNaN(v));
  const settled = unitByValues(quantity, values);
  if ('unit' in settled) return { unit: settled.unit, from: 'values' };
  // No sampled value fits any unit (or none is a number): every row will be an error whatever the unit, so the
  // canonical one is assumed for the messages, and said so.
  if ('none' in settled) return { unit: rule.units[0]!, from: 'assumed' };
  if (options.unitsUndecided === 'show') return { unit: rule.units[0]!, from: 'needed' };
  const ranges = rule.units.map((u) => `${formatRange(u.range, u.label)} (${u.id})`).join(' or ');
  const why = `has values that could be ${settled.ambiguous.map((u) => u.label).join(' or ')} (${ranges}), or mixes them`;
  throw planError(file, column.name, `${quantity}: the header names no unit and the column ${why}; state it with --unit "${column.name}=${rule.units[0]!.id}" (one of ${choices})`);
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

  addPlain(column: Column, declared: [number, number] | undefined): void {
    const unit = bracketedUnit(column.name);
    const slot = this.addSpec({ name: column.name, source: column.name, unit, ...(declared ? { range: declared } : {}) }, column);
    if (declared) this.notes.push(`${column.name}: used as given; must lie in the declared ${formatRange(declared, unit).trim()}`);
    const decimalComma = this.decimalComma;
    this.fields.push({
      index: column.index,
      column: column.name,
      read(text, row) {
        const value = plainNumber(text, decimalComma);
        if (Number.isNaN(value)) return whyNotANumber(text, decimalComma);
        if (declared && !(value >= declared[0] && value <= declared[1])) return { kind: 'invalid', problem: `out of the declared range ${formatRange(declared, unit).trim()}` };
        row[slot] = value;
        return OK;
      },
    });
  }

  addQuantity(column: Column, quantity: Quantity, source: { unit: Unit; from: NonNullable<FeatureSpec['sourceUnit']>['from'] }): void {
    const rule = QUANTITIES[quantity];
    const { unit } = source;
    const converted = unit.id !== rule.units[0]!.id;
    const range: [number, number] = [unit.toCanonical(unit.range[0]), unit.toCanonical(unit.range[1])];
    const slot = this.addSpec(
      {
        name: quantity,
        source: column.name,
        unit: rule.unit,
        range,
        recognisedAs: quantity,
        sourceUnit: { id: unit.id, label: unit.label, from: source.from },
        ...(rule.units.length > 1 ? { unitChoices: rule.units.map((u) => ({ id: u.id, label: u.label })) } : {}),
        ...(converted ? { conversion: `${unit.label} → ${rule.unit}` } : {}),
      },
      column,
    );
    if (quantity === 'systolic_bp') this.systolicSlots.push({ slot, column: column.name });
    if (quantity === 'diastolic_bp') this.diastolicSlots.push({ slot, column: column.name });
    const how = {
      header: 'by its header',
      option: 'as stated',
      values: 'by its values',
      'only unit': 'its only unit',
      assumed: 'assumed: no sampled value fits a unit',
      needed: 'undecided: its values fit more than one unit, choose it',
    }[source.from];
    this.notes.push(
      `"${column.name}": ${quantity} in ${unit.label} (${how})${converted ? `, converted to ${rule.unit}` : ''}; ` +
        `must lie in ${formatRange(unit.range, unit.label)}, values outside are errors, never clipped`,
    );
    const decimalComma = this.decimalComma;
    this.fields.push({
      index: column.index,
      column: column.name,
      read(text, row) {
        const value = plainNumber(text, decimalComma);
        if (Number.isNaN(value)) return whyNotANumber(text, decimalComma);
        const canonical = toCanonical(unit, value);
        if (Number.isNaN(canonical)) return { kind: 'invalid', problem: rangeProblem(unit) };
        row[slot] = canonical;
        return OK;
      },
    });
  }

  addPressure(column: Column, systolicName: string, diastolicName: string): void {
    const high = QUANTITIES.systolic_bp.units[0]!;
    const low = QUANTITIES.diastolic_bp.units[0]!;
    const spec = (name: string, quantity: Quantity, unit: Unit): FeatureSpec => ({
      name,
      source: column.name,
      unit: unit.label,
      range: [unit.range[0], unit.range[1]],
      recognisedAs: quantity,
      sourceUnit: { id: unit.id, label: unit.label, from: 'only unit' },
    });
    const systolic = this.addSpec(spec(systolicName, 'systolic_bp', high), column);
    const diastolic = this.addSpec(spec(diastolicName, 'diastolic_bp', low), column);
    this.systolicSlots.push({ slot: systolic, column: column.name });
    this.diastolicSlots.push({ slot: diastolic, column: column.name });
    this.notes.push(
      `blood pressure: column "${column.name}" split at "/" into ${systolicName} (${formatRange(high.range, high.label)}) ` +
        `and ${diastolicName} (${formatRange(low.range, low.label)}); values outside are errors, never clipped`,
    );
    const decimalComma = this.decimalComma;
    this.fields.push({
      index: column.index,
      column: column.name,
      read(text, row) {
        const cell = readBloodPressure(text, decimalComma);
        if (cell.kind !== 'pair') return cell.kind === 'missing' ? MISSING : cell;
        const s = toCanonical(high, cell.systolic);
        const d = toCanonical(low, cell.diastolic);
        const problems = [Number.isNaN(s) ? `systolic ${rangeProblem(high)}` : null, Number.isNaN(d) ? `diastolic ${rangeProblem(low)}` : null];
        if (Number.isNaN(s) || Number.isNaN(d)) return { kind: 'invalid', problem: problems.filter((p) => p !== null).join('; ') };
        row[systolic] = s;
        row[diastolic] = d;
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
}
