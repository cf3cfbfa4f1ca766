import type { Db } from '../store/db.ts';
import type { AuditAction, AuditDetails, AuditPort } from './actions.ts';
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
 * with the work it describes.
 */
export function auditPort(db: Db, actor: Actor): AuditPort {
  return <A extends AuditAction>(action: A, detail: AuditDetails[A]): void => {
    appendAudit(db, { role: actor.role, action, detail: { ...defined(detail), via: actor.via } });
  };
}
