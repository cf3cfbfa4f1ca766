import { getRun } from '../store/predictions.ts';
import { type NamedKind, namesOf, setName } from '../store/names.ts';
import type { Workspace } from '../store/workspace.ts';
import type { Caller } from './caller.ts';
import { loadModel } from './models.ts';

const MAX_NAME_LENGTH = 80;

/** A name as stored: trimmed, one line of printable text, 1 to 80 characters. */
function cleanName(name: string): string {
  const clean = name.replace(/\p{Cc}/gu, ' ').replace(/\s+/g, ' ').trim();
  if (clean.length === 0) throw new Error('a name needs at least one visible character');
  if (clean.length > MAX_NAME_LENGTH) throw new Error(`a name is at most ${MAX_NAME_LENGTH} characters (this one has ${clean.length})`);
  return clean;
}

/**
 * Names a model or a run for people (the id stays what runs, reports and the log refer to). The key holder's
 * use case: the name is tagged with the workspace's integrity key, and the renaming is recorded.
 */
export function nameThing(caller: Caller, what: NamedKind, id: string, name: string): string {
  const { ws } = caller;
  if (what === 'model') loadModel(ws, id);
  else if (!getRun(ws.db, ws.rowMac(), Number(id))) throw new Error(`no prediction run ${id} in this workspace`);
  const clean = cleanName(name);
  setName(ws.db, ws.rowMac(), what, id, clean);
  caller.audit('name', { what, id, name: clean });
  return clean;
}

/** The names of models or runs, by id (see namesOf for what is left out). */
export function namesFor(ws: Workspace, what: NamedKind): Map<string, string> {
  return namesOf(ws.db, ws.rowMacIfLoaded(), what);
}
