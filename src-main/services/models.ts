import { type Model, parseModel } from '../ml/model.ts';
import { getModelJson, insertModel, latestModelId, listModelJson } from '../store/models.ts';
import type { Workspace } from '../store/workspace.ts';

export function saveModel(ws: Workspace, model: Model): void {
  insertModel(ws.db, model.id, model.createdAt, JSON.stringify(model));
}

export function loadModel(ws: Workspace, id?: string): Model {
  const modelId = id ?? latestModelId(ws.db);
  if (!modelId) throw new Error('this workspace has no model yet: train one first (homopai train)');
  const json = getModelJson(ws.db, modelId);
  if (!json) throw new Error(`no model with id ${modelId} in this workspace`);
  return parseModel(JSON.parse(json));
}

export function listModels(ws: Workspace): Model[] {
  return listModelJson(ws.db).map((j) => parseModel(JSON.parse(j)));
}
