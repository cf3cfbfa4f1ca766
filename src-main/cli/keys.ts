import type { Progress } from '../common/jobs.ts';
import type { Caller } from '../services/caller.ts';
import { backupKeySet, restoreKeySet } from '../services/key-backup.ts';
import { abortRotation, type OldKeyFate, rotateKeys } from '../services/key-rotation.ts';
import { grantClinicians, KeyHolder, listKeySetInfos } from '../services/key-sets.ts';
import type { Workspace } from '../store/workspace.ts';
import type { SecretKeyVault } from '../vault/vault.ts';
import { BACKUP_ENV, CLINICIAN_ENV, cliniciansVault, cliniciansVaultToSeal } from './credentials.ts';
import { readPassphrase } from './prompt.ts';

/** What main.ts hands over: the parsed options these commands read and its shared helpers. */
export interface KeysCli {
  values: { old?: string; abort?: boolean; out?: string };
  positionals: string[];
  json: boolean;
  openWs: () => Workspace;
  caller: (ws: Workspace) => Caller;
  vault: (ws: Workspace, purpose: string) => Promise<SecretKeyVault>;
  onProgress: (p: Progress) => void;
  print: (json: boolean, value: unknown, human: () => string) => void;
}

const SUBCOMMANDS = 'list, rotate, backup, restore or grant-clinicians';

/** `homopai keys <subcommand>`: the key set's life after init, all as its key holder except `list`. */
export async function keysCommand(cli: KeysCli): Promise<void> {
  const sub = cli.positionals[1];
  using ws = cli.openWs();
  switch (sub) {
    case 'list': {
      const sets = listKeySetInfos(ws);
      cli.print(cli.json, sets, () =>
        sets.length === 0
          ? 'no key set yet: homopai init creates one'
          : sets.map((k) => `${k.shortFingerprint}  ${k.state.padEnd(9)} ${k.preset}, N=${k.polyModulusDegree}, ${k.custody}, created ${k.createdAt}`).join('\n'),
      );
      return;
    }
    case 'rotate':
      return await rotate(cli, ws);
    case 'backup': {
      const out = cli.values.out;
      if (!out) throw new Error('keys backup needs --out FILE');
      const vault = await cli.vault(ws, 'to back up the secret key');
      const r = await backupKeySet(cli.caller(ws), vault, out, await readPassphrase('for the backup (another secret than the vault’s)', BACKUP_ENV));
      cli.print(cli.json, r, () => `secret key of key set ${r.keySet.slice(0, 16)} sealed under the backup passphrase into ${r.path} (0600): keep it off this machine`);
      return;
    }
    case 'restore': {
      const file = cli.positionals[2];
      if (!file) throw new Error('keys restore needs the backup file');
      const backupPassphrase = await readPassphrase('to open the backup', BACKUP_ENV);
      const vault = await cli.vault(ws, 'to seal the restored secret key');
      const r = await restoreKeySet(cli.caller(ws), vault, file, backupPassphrase);
      cli.print(cli.json, { ...r, custody: vault.custody }, () => `secret key of key set ${r.keySet.slice(0, 16)} restored into the ${vault.custody} vault`);
      return;
    }
    case 'grant-clinicians': {
      const clinicians = await cliniciansVaultToSeal(ws.dir, ws.requireKeySet().custody);
      const holder = await KeyHolder.unlock(ws, await cli.vault(ws, "to derive the clinicians' credential"));
      try {
        await grantClinicians(cli.caller(ws), holder, clinicians);
      } finally {
        holder.lock();
      }
      cli.print(cli.json, { granted: true, custody: clinicians.custody }, () => `clinicians' credential sealed (${clinicians.custody}): it opens the integrity key alone, to import, never to decrypt`);
      return;
    }
    default:
      throw new Error(sub === undefined ? `keys needs a subcommand: ${SUBCOMMANDS}` : `unknown keys subcommand "${sub}" (${SUBCOMMANDS})`);
  }
}

async function rotate(cli: KeysCli, ws: Workspace): Promise<void> {
  const vault = await cli.vault(ws, 'to re-encrypt the workspace under a new key set');
  if (cli.values.abort) {
    const r = await abortRotation(cli.caller(ws), vault);
    cli.print(cli.json, r ?? { rotation: null }, () => (r ? `rotation ${r.rotation} aborted: the key set in use never changed` : 'no rotation in progress'));
    return;
  }
  const old = cli.values.old;
  if (old !== 'archive' && old !== 'destroy') {
    throw new Error('keys rotate needs --old archive|destroy: what becomes of the old secret key once every batch is under the new one');
  }
  const holder = await KeyHolder.unlock(ws, vault);
  // Ctrl-C stops between blocks; what was re-encrypted stays staged, and the next run continues from it.
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  try {
    const clinicians = cliniciansVault(ws.dir, ws.requireKeySet().custody);
    const r = await rotateKeys(cli.caller(ws), holder, vault, { old: old satisfies OldKeyFate, clinicians }, { onProgress: cli.onProgress, signal: controller.signal });
    cli.print(cli.json, r, () =>
      [
        `key set ${r.from.shortFingerprint} -> ${r.to.shortFingerprint}${r.resumed ? ' (resumed)' : ''}: ${r.ciphertexts} ciphertexts and ${r.predictionBlocks} prediction blocks re-encrypted`,
        `old secret key ${r.old === 'archive' ? 'archived (kept in the vault, unused)' : 'destroyed'}`,
        r.clinicians
          ? "clinicians' credential sealed for the new key set"
          : `clinicians need their credential again: homopai keys grant-clinicians with ${CLINICIAN_ENV} set`,
        'hospitals need the new kit: homopai kit export',
      ].join('\n'),
    );
  } finally {
    process.off('SIGINT', stop);
    holder.lock();
  }
}
