import type { Channel, Role } from '../../src-preload/contract.ts';
import { ALLOWED, EVERYONE } from '../../src-preload/roles.ts';

export class PermissionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermissionError';
  }
}

/** Channels whose refusal is itself audited: an attempt to see per-patient results. */
export const DECRYPTING: ReadonlySet<Channel> = new Set(['predictions.decrypt', 'predictions.page', 'predictions.exportCsv', 'evaluate.run']);

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
