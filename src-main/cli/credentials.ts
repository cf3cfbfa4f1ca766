import type { Workspace } from '../store/workspace.ts';
import { vaultFor } from '../vault/select.ts';
import type { SecretKeyVault } from '../vault/vault.ts';
import { readPassphrase } from './prompt.ts';

/*
 * Which credential a command opens, and so which role it acts in: the key holder's vault (researcher), the
 * clinicians' (integrity key alone), or none (auditor). Passphrases come from the environment or a prompt,
 * never from an argument (visible in `ps` and shell history).
 */

/** The env variable that gives the clinicians' passphrase to a script. */
export const CLINICIAN_ENV = 'HOMOPAI_CLINICIAN_PASSPHRASE';
/** The env variable that gives a key backup's passphrase: another secret than the vault's, kept with the backup's owner. */
export const BACKUP_ENV = 'HOMOPAI_BACKUP_PASSPHRASE';

/** The vault that holds the active key set's secret key, by the custody chosen at init. */
export async function keyHolderVault(ws: Workspace, purpose: string, custody = ws.requireKeySet().custody): Promise<SecretKeyVault> {
  return vaultFor(ws.dir, custody, custody === 'passphrase' ? await readPassphrase(purpose) : undefined);
}

/**
 * The clinicians' vault: the keychain, or the clinicians' passphrase when one is given; null when the custody
 * is a passphrase and none was given.
 */
export function cliniciansVault(dir: string, custody: string): SecretKeyVault | null {
  if (custody === 'keychain') return vaultFor(dir, 'keychain', undefined);
  const passphrase = process.env[CLINICIAN_ENV];
  return passphrase ? vaultFor(dir, 'passphrase', passphrase) : null;
}

/** The clinicians' vault, asking for its passphrase when the custody is a passphrase (the key holder sealing it). */
export async function cliniciansVaultToSeal(dir: string, custody: string): Promise<SecretKeyVault> {
  if (custody === 'keychain') return vaultFor(dir, 'keychain', undefined);
  return vaultFor(dir, 'passphrase', await readPassphrase("to seal the clinicians' credential", CLINICIAN_ENV));
}
