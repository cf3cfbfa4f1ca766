import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../common/files.ts';
import { exportKeyBackup, restoreKeyBackup } from '../vault/backup.ts';
import type { SecretKeyVault } from '../vault/vault.ts';
import type { Caller } from './caller.ts';

/** A backup holds one secret key (about 0.5 MB at N=16384, base64 in JSON); anything far larger is not one. */
const MAX_BACKUP_BYTES = 16 * 1024 * 1024;

/** Writes the active key set's secret key, sealed under the backup passphrase, to `out` (0600), and records it. */
export async function backupKeySet(caller: Caller, vault: SecretKeyVault, out: string, passphrase: string): Promise<{ keySet: string; path: string }> {
  const keySet = caller.ws.requireKeySet().fingerprint;
  await writeFileAtomic(out, await exportKeyBackup(vault, keySet, passphrase));
  caller.audit('export', { what: 'key-backup', keySet });
  return { keySet, path: out };
}

/**
 * Puts the active key set's secret key back from a backup into the workspace's vault (the usual reason: the
 * keychain entry or the vault file was lost). A backup of another key set, or a wrong passphrase, is refused
 * before anything is written.
 */
export async function restoreKeySet(caller: Caller, vault: SecretKeyVault, file: string, passphrase: string): Promise<{ keySet: string }> {
  const keySet = caller.ws.requireKeySet().fingerprint;
  const size = (await stat(file)).size;
  if (size > MAX_BACKUP_BYTES) throw new Error(`${file} is ${size} bytes: not a HomoPAI key backup (at most ${MAX_BACKUP_BYTES})`);
  await restoreKeyBackup(vault, keySet, await readFile(file), passphrase);
  caller.audit('key-restore', { keySet, custody: vault.custody });
  return { keySet };
}
