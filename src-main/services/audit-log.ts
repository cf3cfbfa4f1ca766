import { exportAuditJsonl } from '../audit/log.ts';
import type { Caller } from './caller.ts';

/** Writes the activity log as JSON Lines where the auditor chose, and records the export in the log itself. */
export async function exportAuditLog(caller: Caller, path: string): Promise<{ path: string; entries: number }> {
  const entries = await exportAuditJsonl(caller.ws.db, path);
  caller.audit('export', { what: 'audit-log', entries });
  return { path, entries };
}
