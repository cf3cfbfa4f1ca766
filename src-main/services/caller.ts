import type { AuditPort } from '../audit/actions.ts';
import { type Actor, auditPort } from '../audit/port.ts';
import type { Workspace } from '../store/workspace.ts';

/**
 * What every use case is called with, from either front door: the workspace, the port it records through (who
 * acts and through which door are bound into it), and the k a command line asked for.
 */
export interface Caller {
  ws: Workspace;
  audit: AuditPort;
  /** k asked for on a command line: it applies when above the workspace's own, and is refused below it. */
  minPatients?: number;
}

export function callerFor(ws: Workspace, actor: Actor, minPatients?: number): Caller {
  return { ws, audit: auditPort(ws, actor), ...(minPatients === undefined ? {} : { minPatients }) };
}
