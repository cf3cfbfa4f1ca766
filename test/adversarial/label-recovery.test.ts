import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation, PatientPrediction } from '../../src-preload/contract.ts';
import { SHARED, tempDir } from '../helpers/workspace.ts';
import { cli, cliJson } from './attacker.ts';

/*
 * Attack 2, label recovery: the key holder sees every patient's probability (predict) and the ROC curve
 * (evaluate). When the curve had a point per distinct score, each step moved one patient: match the step's
 * threshold to the patient with that probability and read the label off whether tpr or fpr moved (19 of 19 on
 * the pilot). Curves are now built from bins on a fixed grid, each holding at least k patients of every batch
 * and both classes: no threshold is a patient's score, no step moves fewer than k patients, and no bin's counts
 * say one label. The same holds for the signed report's JSON.
 */

const SHARED_MATERNAL = join(SHARED, 'maternal-health-risk.csv');
// Two rows hold a heart rate of 7 bpm, out of range: they are left out and reported, the rest imported.
const LABEL = ['--label', 'RiskLevel', '--positive', 'high risk', '--invalid', 'skip'];

/** The attack, as it worked on per-score curves: labels recovered for patients a single-patient step identifies. */
function recoverLabels(curve: Evaluation['roc'], labeled: number, positives: number, predictions: readonly PatientPrediction[]): number {
  let recovered = 0;
  for (let i = 1; i < curve.length; i++) {
    const dtp = Math.round(((curve[i]!.tpr ?? 0) - (curve[i - 1]!.tpr ?? 0)) * positives);
    const dfp = Math.round(((curve[i]!.fpr ?? 0) - (curve[i - 1]!.fpr ?? 0)) * (labeled - positives));
    const at = predictions.filter((p) => p.probability === curve[i]!.threshold);
    if (dtp + dfp === 1 && at.length === 1) recovered++;
  }
  return recovered;
}

describe('attack 2: labels recovered from curves matched with predictions', () => {
  const tmp = tempDir('homopai-attack-labels-');
  // A copy: the rejects report is written beside the file, and ../shared is read-only.
  const MATERNAL = join(tmp.dir, 'maternal-health-risk.csv');
  let evaluation: Evaluation;
  let predictions: PatientPrediction[];

  beforeAll(async () => {
    copyFileSync(SHARED_MATERNAL, MATERNAL);
    await cli(tmp.dir, ['init']);
    await cli(tmp.dir, ['import', MATERNAL, ...LABEL]);
    await cli(tmp.dir, ['train', MATERNAL, ...LABEL]);
    predictions = (await cliJson<{ predictions: PatientPrediction[] }>(tmp.dir, ['predict'])).predictions;
    evaluation = await cliJson<Evaluation>(tmp.dir, ['evaluate']);
  });
  afterAll(() => tmp[Symbol.dispose]());

  it('recovers no label: every step of the curve moves at least k patients of both classes', () => {
    const k = evaluation.release.minPatients;
    const positives = evaluation.metrics.confusion.tp + evaluation.metrics.confusion.fn;
    expect(recoverLabels(evaluation.roc, evaluation.labeled, positives, predictions)).toBe(0);
    expect(evaluation.byClass.length).toBeGreaterThan(10);
    for (const bin of evaluation.byClass) {
      expect(bin.positives + bin.negatives).toBeGreaterThanOrEqual(k);
      expect(bin.positives, `bin ${bin.lo}-${bin.hi}`).toBeGreaterThan(0);
      expect(bin.negatives, `bin ${bin.lo}-${bin.hi}`).toBeGreaterThan(0);
    }
    for (const bin of evaluation.histogram) expect(bin.patients).toBeGreaterThanOrEqual(k);
  });

  it('releases thresholds on the grid, never a patient’s score', () => {
    const thresholds = evaluation.roc.flatMap((p) => (p.threshold === null ? [] : [p.threshold]));
    for (const t of thresholds) expect(Math.abs(t * 100 - Math.round(t * 100))).toBeLessThan(1e-9);
    const edges = [...evaluation.byClass, ...evaluation.histogram, ...evaluation.calibration].flatMap((b) => [b.lo, b.hi]);
    for (const e of edges) expect(Math.abs(e * 100 - Math.round(e * 100))).toBeLessThan(1e-9);
  });

  it('puts no per-patient score in the signed report', async () => {
    const out = join(tmp.dir, 'report');
    await cli(tmp.dir, ['report', '--out', out, '--format', 'json']);
    const json = readFileSync(join(out, readdirSync(out).find((f) => f.endsWith('.json') && !f.includes('manifest'))!), 'utf8');
    const report = JSON.parse(json) as { evaluation: Evaluation & { status: string } };
    expect(report.evaluation.status).toBe('evaluated');
    expect(report.evaluation.byClass).toEqual(evaluation.byClass);
    // No number in the report equals a patient's probability unless it is a grid value (a bin edge).
    const numbers = new Set((json.match(/-?\d+\.\d+/g) ?? []).map(Number));
    const exposed = predictions.filter((p) => numbers.has(p.probability) && Math.abs(p.probability * 100 - Math.round(p.probability * 100)) > 1e-9);
    // Calibration means and rates are aggregates that can coincide with some score by chance; none may be a
    // patient's score in a bin of one, which the bins' sizes already rule out.
    expect(exposed.length).toBeLessThanOrEqual(evaluation.calibration.length * 2);
    // And no list in it is as long as the patients: bins and curve points number at most n / k + 1.
    const bound = Math.ceil(evaluation.labeled / evaluation.release.minPatients) + 1;
    for (const list of [report.evaluation.roc, report.evaluation.byClass, report.evaluation.histogram, report.evaluation.calibration]) {
      expect(list.length).toBeLessThanOrEqual(bound);
    }
  });
});
