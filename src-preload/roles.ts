import type { Channel, Role } from './contract.ts';

/*
 * Who may call each channel: one table, keyed by Channel so a channel added to the contract does not compile
 * until someone decides who may call it. The main process enforces it on every call (src-main/app/roles.ts);
 * the renderer reads it to hide what a role cannot do, so the two can never disagree.
 */

export const EVERYONE = 'any role, or none' as const;
const IMPORTERS: readonly Role[] = ['clinician', 'researcher'];
const RESEARCHER: readonly Role[] = ['researcher'];
const AUDITOR: readonly Role[] = ['auditor'];
const READERS: readonly Role[] = ['clinician', 'researcher', 'auditor'];
const RESEARCH_READERS: readonly Role[] = ['researcher', 'auditor'];

export const ALLOWED: Readonly<Record<Channel, readonly Role[] | typeof EVERYONE>> = {
  'session.status': EVERYONE,
  'presets.list': EVERYONE,
  'keys.create': EVERYONE,
  'keys.unlock': EVERYONE,
  'keys.lock': EVERYONE,
  'keys.list': READERS,
  // Decrypts every stored block in the key holder's memory to encrypt it again: the key holder's alone.
  'keys.rotate': RESEARCHER,
  'jobs.cancel': EVERYONE,
  'files.pickCsv': IMPORTERS,
  'files.pickBundle': IMPORTERS,
  'import.bundle': IMPORTERS,
  'import.preview': IMPORTERS,
  'import.check': IMPORTERS,
  'import.run': IMPORTERS,
  'patients.list': IMPORTERS,
  'patients.overview': READERS,
  'models.train': RESEARCHER,
  // Names are tagged with the integrity key the researcher's session holds.
  'names.set': RESEARCHER,
  // The key holder's work: only aggregates leave it (gradients, cohort statistics, training-set metrics).
  'models.trainEncrypted': RESEARCHER,
  'predict.run': RESEARCHER,
  'predictions.decrypt': RESEARCHER,
  // Pages of the run the key holder decrypted, held in the main process for the unlocked session only.
  'predictions.page': RESEARCHER,
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
  // Signing a report needs the report-signing key, kept in the key holder's vault.
  'reports.generate': RESEARCHER,
  'reports.verify': RESEARCH_READERS,
  'reports.publicKey': RESEARCHER,
};

/** Whether a role may use a channel. */
export function mayUse(channel: Channel, role: Role | null): boolean {
  const allowed = ALLOWED[channel];
  // No list names null: a locked session uses only what everyone may.
  return allowed === EVERYONE || (allowed as readonly (Role | null)[]).includes(role);
}
