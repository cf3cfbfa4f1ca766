import type { Workspace } from '../store/workspace.ts';
import type { AuditAction, AuditDetails, AuditPort } from './actions.ts';
import { writeAnchor } from './anchor.ts';
import { type AuditDetailValue, appendAudit } from './log.ts';

/**
 * Who acts, as the log records it: the role their credentials give them, and the door they came through
 * ('scratch': a throwaway workspace of a one-shot run or a benchmark).
 */
export interface Actor {
  role: string;
  via: 'app' | 'cli' | 'scratch';
}

/** Optional fields a use case leaves undefined are left out of the entry rather than recorded as null. */
function defined(detail: object): Record<string, AuditDetailValue> {
  return Object.fromEntries(Object.entries(detail).filter(([, v]) => v !== undefined)) as Record<string, AuditDetailValue>;
}

/**
 * The one way a use case records what it did. Inside a caller's transaction the entry commits or rolls back
 * with the work it describes; once it has committed, a caller holding the integrity key signs the log's new
 * head into its anchor (audit/anchor.ts). Without the key (an auditor) the entry stays unanchored until the
 * next anchored one.
 */
export function auditPort(ws: Workspace, actor: Actor): AuditPort {
  return <A extends AuditAction>(action: A, detail: AuditDetails[A]): void => {
    appendAudit(ws.db, { role: actor.role, action, detail: { ...defined(detail), via: actor.via } });
    ws.afterCommit(() => {
      const mac = ws.rowMacIfLoaded();
      if (mac) writeAnchor(ws.dir, ws.db, mac);
    });
  };
}
