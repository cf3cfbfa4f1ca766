import { listAudit, modelsAppliedTo } from '../audit/log.ts';
import { sha256Hex } from '../common/files.ts';
import { type Model, parseModel } from '../ml/model.ts';
import { getModelJson, insertModel, latestModelJson, listModelJson } from '../store/models.ts';
import type { Workspace } from '../store/workspace.ts';
import type { Caller } from './caller.ts';
import { minPatients } from './policy.ts';
import { releasePolicy } from './release-policy.ts';

/*
 * The model registry. A model steers every per-patient output, so it is registered only by training in this
 * workspace (on at least k labeled patients: a model fitted to fewer is close to a lookup table of them), its
 * row is tagged, and a prediction refuses a model that could be inverted into one vital.
 */

/** A model one feature dominates turns each patient's output into that feature's value: refused above this share. */
export const MAX_FEATURE_SHARE = 0.9;

export class ModelRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelRefusedError';
  }
}

/** Registers a model trained here, refusing one fitted to fewer than k labeled patients. */
export function registerModel(caller: Caller, model: Model): void {
  const k = minPatients(caller);
  if (model.training.rows < k) {
    throw new ModelRefusedError(
      `model ${model.id} was trained on ${model.training.rows} labeled patient(s), fewer than k = ${k}: a model fitted to so few ` +
        'patients can give them away; train on more',
    );
  }
  insertModel(caller.ws.db, caller.ws.rowMac(), model.id, model.createdAt, JSON.stringify(model));
}

/** A registered model (the latest when no id is given), verified against its tag, with the hash runs record. */
export function loadModel(ws: Workspace, id?: string): Model & { sha256: string } {
  const json = id === undefined ? latestModelJson(ws.db, ws.rowMacIfLoaded()) : getModelJson(ws.db, ws.rowMacIfLoaded(), id);
  if (json === null) throw new Error(id === undefined ? 'this workspace has no model yet: train one first (homopai train)' : `no model with id ${id} in this workspace`);
  return { ...parseModel(JSON.parse(json)), sha256: sha256Hex(json) };
}

/** Who trained each model, by model id, as the activity log's train entries record it (actor and role). */
export function trainersOf(ws: Workspace): Map<string, string> {
  const entries = listAudit(ws.db, { action: 'train' });
  return new Map(entries.flatMap((e) => (typeof e.detail['modelId'] === 'string' ? [[e.detail['modelId'], `${e.actor} (${e.role})`] as const] : [])));
}

export function listModels(ws: Workspace): Model[] {
  return listModelJson(ws.db, ws.rowMacIfLoaded()).map((j) => parseModel(JSON.parse(j)));
}

/** The share of the model's (standardized) weight its heaviest feature carries, and which feature it is. */
export function heaviestFeature(model: Model): { name: string; share: number } {
  const total = model.weights.reduce((s, w) => s + Math.abs(w), 0);
  const j = model.weights.reduce((best, w, i) => (Math.abs(w) > Math.abs(model.weights[best]!) ? i : best), 0);
  return { name: model.features[j]!.name, share: total === 0 ? 1 : Math.abs(model.weights[j]!) / total };
}

/**
 * What per-patient predictions with this model may not do: reveal one vital (one feature carries nearly all the
 * weight, so the output inverts to its value), or add a linear view too many of the same patients (each model's
 * output is one linear combination of a patient's features; the cap bounds how many a batch ever gets).
 */
export function requirePerPatientUse(caller: Caller, model: Model, batchIds: readonly number[]): void {
  const heaviest = heaviestFeature(model);
  if (model.features.length === 1 || heaviest.share > MAX_FEATURE_SHARE) {
    throw new ModelRefusedError(
      `model ${model.id} puts ${(heaviest.share * 100).toFixed(0)}% of its weight on ${heaviest.name}: its per-patient output would ` +
        `give away each patient's ${heaviest.name}. Per-patient predictions need a model that combines features (none above ${MAX_FEATURE_SHARE * 100}% of the weight)`,
    );
  }
  const cap = releasePolicy(caller.ws).maxModelsPerBatch;
  for (const batchId of batchIds) {
    const applied = new Set(modelsAppliedTo(caller.ws.db, batchId));
    if (!applied.has(model.id) && applied.size >= cap) {
      throw new ModelRefusedError(
        `batch ${batchId} has already been predicted with ${applied.size} distinct model(s), the workspace's cap: each model's output is one ` +
          "more linear view of every patient's vitals, and enough of them reveal the vitals. Use one of the models already applied",
      );
    }
  }
}
