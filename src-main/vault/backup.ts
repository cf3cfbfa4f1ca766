import { openWithPassphrase, sealWithPassphrase } from './passphrase.ts';
import type { SecretKeyVault } from './vault.ts';

/**
 * A key backup: the secret key sealed under a backup passphrase, in the passphrase vault's file format (so a
 * backup is also a ready passphrase vault file). Whatever the custody, this is how a key leaves the machine.
 */
export async function exportKeyBackup(vault: SecretKeyVault, fingerprint: string, passphrase: string): Promise<Uint8Array> {
  const secretKey = await vault.load(fingerprint);
  try {
    return new TextEncoder().encode(await sealWithPassphrase(fingerprint, secretKey, passphrase));
  } finally {
    secretKey.fill(0);
  }
}

/** Opens a backup (bound to its key set: another set's backup is refused) and puts the key back into `vault`. */
export async function restoreKeyBackup(vault: SecretKeyVault, fingerprint: string, backup: Uint8Array, passphrase: string): Promise<void> {
  const secretKey = await openWithPassphrase(new TextDecoder().decode(backup), fingerprint, passphrase, 'the key backup');
  try {
    await vault.replace(fingerprint, secretKey);
  } finally {
    secretKey.fill(0);
  }
}
