import type { Channel, Role } from '../../src-preload/contract.ts';

export class PermissionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermissionError';
  }
}

const EVERYONE = 'any role, or none' as const;
const IMPORTERS: readonly Role[] = ['clinician', 'researcher'];
const RESEARCHER: readonly Role[] = ['researcher'];
const AUDITOR: readonly Role[] = ['auditor'];
const READERS: readonly Role[] = ['clinician', 'researcher', 'auditor'];
const RESEARCH_READERS: readonly Role[] = ['researcher', 'auditor'];

/*
 * Enforced in main for every call: the renderer hides what a role cannot do, but a compromised or buggy
 * renderer must get the same answer. Keyed by Channel so a channel added to the contract does not compile
 * until someone decides who may call it.
 */
const ALLOWED: Readonly<Record<Channel, readonly Role[] | typeof EVERYONE>> = {
  'session.status': EVERYONE,
  'presets.list': EVERYONE,
  'keys.create': EVERYONE,
  'keys.unlock': EVERYONE,
  'keys.lock': EVERYONE,
  'jobs.cancel': EVERYONE,
  'files.pickCsv': IMPORTERS,
  'files.pickBundle': IMPORTERS,
  'import.bundle': IMPORTERS,
  'import.preview': IMPORTERS,
  'import.run': IMPORTERS,
  'patients.list': IMPORTERS,
  'patients.overview': READERS,
  'models.train': RESEARCHER,
  // The key holder's work: only aggregates leave it (gradients, cohort statistics, training-set metrics).
  'models.trainEncrypted': RESEARCHER,
  'predict.run': RESEARCHER,
  'predictions.decrypt': RESEARCHER,
  'predictions.exportCsv': RESEARCHER,
  'evaluate.run': RESEARCHER,
  'bench.run': RESEARCHER,
  'models.list': RESEARCH_READERS,
  'predict.runs': RESEARCH_READERS,
  'bench.history': RESEARCH_READERS,
  'audit.list': AUDITOR,
  'audit.verify': AUDITOR,
  'audit.export': AUDITOR,
  'privacy.status': RESEARCH_READERS,
  // A report is evaluated only for a role that may use evaluate.run (handlers.ts, reports.generate).
  'reports.generate': RESEARCH_READERS,
  'reports.verify': RESEARCH_READERS,
  'reports.publicKey': RESEARCH_READERS,
};

/** Channels whose refusal is itself audited: an attempt to see per-patient results. */
export const DECRYPTING: ReadonlySet<Channel> = new Set(['predictions.decrypt', 'predictions.exportCsv', 'evaluate.run']);

/** For a handler that does part of another channel's work, under that channel's rule (a report's evaluation). */
export function mayUse(channel: Channel, role: Role | null): boolean {
  const allowed = ALLOWED[channel];
  return allowed === EVERYONE || (role !== null && allowed.includes(role));
}

export function authorize(channel: Channel, role: Role | null): void {
  const allowed = ALLOWED[channel];
  if (allowed === EVERYONE) return;
  const who = allowed.join(' or ');
  if (role === null) {
    throw new PermissionError(`the key set is locked: unlock it as ${who} to use ${channel}`);
  }
  if (!allowed.includes(role)) {
    throw new PermissionError(`the ${role} role may not use ${channel} (allowed for: ${who})`);
  }
}
