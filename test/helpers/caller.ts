import type { Role } from '../../src-preload/contract.ts';
import { type Caller, callerFor } from '../../src-main/services/caller.ts';
import type { Workspace } from '../../src-main/store/workspace.ts';

/** A use-case caller for tests, recorded as the CLI would record it. */
export function caller(ws: Workspace, opts: { role?: Role; minPatients?: number } = {}): Caller {
  return callerFor(ws, { role: opts.role ?? 'researcher', via: 'cli' }, opts.minPatients);
}
