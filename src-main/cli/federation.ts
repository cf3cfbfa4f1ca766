import { readFile } from 'node:fs/promises';
import type { Progress } from '../common/jobs.ts';
import { encryptBundle } from '../services/bundle-encrypt.ts';
import { HospitalIdentity } from '../federation/identity.ts';
import { importBundle } from '../services/bundle-import.ts';
import { parseKit } from '../federation/kit.ts';
import type { IngestOptions } from '../ingest/index.ts';
import type { Caller } from '../services/caller.ts';
import { KeyHolder } from '../services/key-sets.ts';
import { exportKit } from '../services/kit.ts';
import { selectForAggregate, type Selection } from '../services/selection.ts';
import { computeCohortStats } from '../services/stats.ts';
import { ENCRYPTED_TRAINING_DEFAULTS, trainEncrypted } from '../services/train-encrypted.ts';
import type { Workspace } from '../store/workspace.ts';
import type { SecretKeyVault } from '../vault/vault.ts';
import { readPassphrase } from './prompt.ts';

/** What main.ts hands over: the parsed options these commands read and its shared helpers. */
export interface FederationCli {
  values: {
    out?: string;
    kit?: string;
    in?: string;
    hospital?: string;
    'hospital-dir'?: string;
    'accept-key'?: string;
    duplicates?: string;
    batches?: string;
    epochs?: string;
    lr?: string;
    nesterov?: boolean;
  };
  positionals: string[];
  json: boolean;
  ingest: () => IngestOptions;
  onProgress: (p: Progress) => void;
  openWs: () => Workspace;
  caller: (ws: Workspace) => Caller;
  vault: (ws: Workspace, purpose: string) => Promise<SecretKeyVault>;
  /** Opens the credential that tags rows: the clinicians', else the key holder's. */
  integrity: (ws: Workspace, purpose: string) => Promise<void>;
  print: (json: boolean, value: unknown, human: () => string) => void;
}

export type FederationCommand = 'kit' | 'encrypt' | 'import-bundle' | 'stats' | 'train-encrypted';

function required(value: string | undefined, what: string): string {
  if (!value) throw new Error(`${what} is required`);
  return value;
}

function positiveNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new Error(`--${name} must be a positive number`);
  return n;
}

function noteLeftOut(leftOut: Selection['leftOut']): void {
  for (const b of leftOut) {
    process.stderr.write(`note: batch ${b.batchId} (${b.patients} patients) is left out: fewer than k, it takes part in no aggregate\n`);
  }
}

/** Runs the key holder's work with the vault unlocked, and locks it whatever happens. */
async function asKeyHolder<T>(cli: FederationCli, ws: Workspace, purpose: string, work: (holder: KeyHolder) => Promise<T>): Promise<T> {
  const holder = await KeyHolder.unlock(ws, await cli.vault(ws, purpose));
  try {
    return await work(holder);
  } finally {
    holder.lock();
  }
}

export async function federationCommand(command: FederationCommand, cli: FederationCli): Promise<void> {
  const v = cli.values;
  switch (command) {
    case 'kit': {
      if (cli.positionals[1] !== 'export') throw new Error('kit needs a subcommand: kit export --out FILE');
      const out = required(v.out, 'kit export --out FILE');
      using ws = cli.openWs();
      const kit = await exportKit(cli.caller(ws), out);
      cli.print(cli.json, { path: out, ...kit }, () =>
        [
          `encryptor kit written to ${out} (public parameters and public key only; ${kit.preset} preset)`,
          `key-set fingerprint ${kit.shortFingerprint}: read it to each hospital by phone or on paper before it encrypts`,
        ].join('\n'),
      );
      return;
    }
    case 'encrypt': {
      const kitPath = required(v.kit, 'encrypt --kit FILE');
      const hospital = required(v.hospital, 'encrypt --hospital NAME');
      const csv = required(v.in, 'encrypt --in FILE.csv');
      const out = required(v.out, 'encrypt --out BUNDLE');
      const dir = required(v['hospital-dir'], "encrypt --hospital-dir DIR (the hospital's own vault folder)");
      const kit = parseKit(await readFile(kitPath, 'utf8'), kitPath);
      const { identity, created } = await HospitalIdentity.open(dir, hospital, await readPassphrase("to open the hospital's signing key"));
      try {
        const r = await encryptBundle({ kit, identity, csv, out, ingest: cli.ingest() }, { onProgress: cli.onProgress });
        cli.print(cli.json, { ...r, newIdentity: created }, () =>
          [
            `${r.rows} patients of ${r.hospital} encrypted into ${out} (bundle ${r.bundleId}, ${r.blocks} block(s), ${(r.bytes / 2 ** 20).toFixed(1)} MiB, ${r.dropped} rows dropped)`,
            `features: ${r.features.map((f) => f.name).join(', ')}; labeled rows: ${r.labeledRows}; patient ids pseudonymized`,
            `kit key set ${r.keySet}: confirm it with the key holder; signing key ${r.hospitalKey}${created ? ' (created now in ' + dir + ')' : ''}`,
            ...r.notes.map((n) => `note: ${n}`),
          ].join('\n'),
        );
      } finally {
        identity.lock();
      }
      return;
    }
    case 'import-bundle': {
      const file = required(cli.positionals[1], 'import-bundle BUNDLE');
      using ws = cli.openWs();
      await cli.integrity(ws, 'to tag the stored ciphertexts');
      const duplicates = cli.values.duplicates;
      if (duplicates !== undefined && duplicates !== 'reject' && duplicates !== 'allow') throw new Error('import-bundle takes --duplicates reject|allow: a bundle is signed whole');
      const r = await importBundle(cli.caller(ws), file, { acceptKey: cli.values['accept-key'], duplicates });
      cli.print(cli.json, r, () =>
        [
          `imported ${r.rows} patients of ${r.hospital} as batch ${r.batchId} (bundle ${r.bundleId}, ${r.blocks} block(s)); nothing was decrypted`,
          `signing key ${r.hospitalKey}${
            r.newHospital
              ? ' registered and pinned (first bundle of this hospital)'
              : r.replacedKey
                ? ` accepted and pinned in place of ${r.replacedKey}`
                : ' matches the pinned key'
          }`,
          `features: ${r.features.map((f) => f.name).join(', ')}; labeled rows: ${r.labeledRows}`,
        ].join('\n'),
      );
      return;
    }
    case 'stats': {
      using ws = cli.openWs();
      const s = await asKeyHolder(cli, ws, 'to decrypt cohort totals', (holder) => {
        const { batchIds, leftOut } = selectForAggregate(ws, v.batches, false);
        noteLeftOut(leftOut);
        return computeCohortStats(cli.caller(ws), holder, batchIds, { onProgress: cli.onProgress });
      });
      cli.print(cli.json, s, () =>
        [
          `encrypted statistics over ${s.patients} patients of ${s.hospitals.length} hospital(s) (batches ${s.batchIds.join(', ')})` +
            (s.positives === null ? '' : `; ${s.positives} of ${s.labeledPatients} labeled are at risk`),
          ...s.features.map((f) => `  ${f.name.padEnd(20)} n ${f.count}  mean ${f.mean.toPrecision(6)}  std ${f.std.toPrecision(6)}`),
        ].join('\n'),
      );
      return;
    }
    case 'train-encrypted': {
      using ws = cli.openWs();
      const options = {
        epochs: positiveNumber(v.epochs, 'epochs') ?? ENCRYPTED_TRAINING_DEFAULTS.epochs,
        lr: positiveNumber(v.lr, 'lr') ?? ENCRYPTED_TRAINING_DEFAULTS.lr,
        nesterov: v.nesterov ?? ENCRYPTED_TRAINING_DEFAULTS.nesterov,
      };
      const r = await asKeyHolder(cli, ws, 'to decrypt the aggregated gradients', (holder) => {
        const { batchIds, leftOut } = selectForAggregate(ws, v.batches, true);
        noteLeftOut(leftOut);
        return trainEncrypted(cli.caller(ws), holder, batchIds, options, {
          onProgress: cli.onProgress,
          onEpoch: (e) =>
            process.stderr.write(
              `epoch ${e.epoch}/${e.epochs}: |gradient| ${e.gradientNorm.toFixed(5)}` +
                (e.training ? `, training loss ${e.training.logLoss.toFixed(4)}, accuracy ${e.training.accuracy.toFixed(4)}` : '') +
                ` (evaluator ${e.evaluateMs.toFixed(0)} ms, key holder ${e.refreshMs.toFixed(0)} ms)\n`,
            ),
        });
      });
      const { model } = r;
      const meanEpochMs = r.epochs.reduce((s, e) => s + e.evaluateMs + e.refreshMs, 0) / r.epochs.length;
      cli.print(cli.json, { ...r, meanEpochMs }, () =>
        [
          `model ${model.id} trained on ciphertexts of ${model.training.rows} patients (${model.training.positives} at-risk) from ${r.stats.hospitals.length} hospital(s)`,
          `${model.training.epochs} epochs at learning rate ${model.training.lr}${options.nesterov ? ' (Nesterov)' : ''}: ${meanEpochMs.toFixed(0)} ms per epoch, ${r.prepareMs.toFixed(0)} ms setup; only aggregates left the key holder's service: gradients and per-epoch training metrics`,
          ...model.features.map((f, j) => `  ${f.name.padEnd(20)} weight ${model.weights[j]!.toFixed(4)}`),
          `  bias ${model.bias.toFixed(4)}; degree-3 sigmoid on [-${model.sigmoid.interval}, ${model.sigmoid.interval}]`,
        ].join('\n'),
      );
      return;
    }
  }
}
