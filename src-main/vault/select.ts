import { KeychainVault } from './keychain.ts';
import { PassphraseVault } from './passphrase.ts';
import type { SecretKeyVault } from './vault.ts';

export type Custody = SecretKeyVault['custody'];

/** The vault for a custody choice: the app and the CLI pick it the same way. */
export function vaultFor(dir: string, custody: string, passphrase: string | undefined): SecretKeyVault {
  if (custody === 'keychain') return new KeychainVault(dir);
  if (custody !== 'passphrase') throw new Error(`unknown key custody "${custody}" (keychain or passphrase)`);
  if (passphrase === undefined) throw new Error('passphrase custody needs a passphrase');
  return new PassphraseVault(dir, passphrase);
}
