import { randomBytes, randomUUID } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ColumnEncryptor } from '../ckks/encrypt.ts';
import { type IngestOptions, readRecords, storedFeature } from '../ingest/index.ts';
import { contextFor } from '../ckks/contexts.ts';
import { breathe, type JobHooks, throwIfCancelled } from '../common/jobs.ts';
import { type BundleHeader, writeBundle } from '../federation/bundle.ts';
import type { HospitalIdentity } from '../federation/identity.ts';
import type { Kit } from '../federation/kit.ts';

export interface EncryptBundleResult {
  bundleId: string;
  out: string;
  hospital: string;
  hospitalKey: string;
  keySet: string;
  rows: number;
  dropped: number;
  labeledRows: number;
  blocks: number;
  bytes: number;
  features: { name: string; unit: string; range?: [number, number] }[];
  notes: string[];
  encryptMs: number;
}

/**
 * The hospital side: validates the CSV exactly as the workstation's importer does, pseudonymizes patient ids,
 * encrypts features and labels column-packed (N/2 patients per ciphertext) with the kit's public key, and
 * writes a signed bundle. Needs no secret key of the key set, no database and no network. Plaintext exists in
 * memory one block at a time and is zeroed once encrypted.
 */
export async function encryptBundle(
  opts: { kit: Kit; identity: HospitalIdentity; csv: string; out: string; ingest?: IngestOptions },
  hooks: JobHooks = {},
): Promise<EncryptBundleResult> {
  const { kit, identity } = opts;
  const ctx = await contextFor(kit.preset.name);
  const { plan: planPromise, chunks } = readRecords(opts.csv, {
    ...opts.ingest,
    hospital: identity.hospital,
    chunkRows: ctx.slotCount,
    signal: hooks.signal,
  });
  const plan = await planPromise;
  const features = plan.features.map(storedFeature);
  const labeled = plan.label !== null;
  using encryptor = new ColumnEncryptor(ctx, { mode: 'public-key', publicKey: kit.publicKey });
  const blocks: BundleHeader['blocks'] = [];
  const ciphertexts: Uint8Array[][] = [];
  let rows = 0;
  let labeledRows = 0;
  let encryptMs = 0;

  let next = await chunks.next();
  while (!next.done) {
    throwIfCancelled(hooks, 'encryption');
    const chunk = next.value;
    try {
      const other = chunk.hospitalIds.find((h) => h !== identity.hospital);
      if (other !== undefined) {
        throw new Error(
          `${basename(opts.csv)} has rows of hospital "${other}": a bundle carries only its signer's patients ("${identity.hospital}")`,
        );
      }
      const flags = chunk.labels ? Array.from(chunk.labels, (v) => !Number.isNaN(v)) : chunk.patientIds.map(() => false);
      const t0 = performance.now();
      const cts = chunk.values.map((column) => encryptor.encrypt(column));
      // An unknown label is encrypted as 0 and flagged unlabeled, as the importer stores it.
      if (chunk.labels) {
        const y = chunk.labels.map((v) => (Number.isNaN(v) ? 0 : v));
        cts.push(encryptor.encrypt(y));
        y.fill(0);
      }
      encryptMs += performance.now() - t0;
      blocks.push({
        slots: chunk.patientIds.length,
        pseudonyms: chunk.patientIds.map((id) => identity.pseudonym(id)),
        labeled: flags,
        ciphertextBytes: cts.map((c) => c.length),
      });
      ciphertexts.push(cts);
      rows += chunk.patientIds.length;
      labeledRows += flags.filter(Boolean).length;
    } finally {
      for (const column of chunk.values) column.fill(0);
      chunk.labels?.fill(0);
    }
    hooks.onProgress?.({ phase: 'encrypting', done: rows, total: null });
    await breathe();
    next = await chunks.next();
  }
  if (rows === 0) throw new Error(`${basename(opts.csv)}: no data rows to encrypt`);

  const header: BundleHeader = {
    format: 'homopai.bundle',
    bundleId: randomUUID(),
    createdAt: new Date().toISOString(),
    hospital: { name: identity.hospital, signingKey: Buffer.from(identity.publicKey).toString('base64') },
    keySet: { fingerprint: kit.fingerprint, preset: kit.preset.name },
    features,
    labeled,
    rows,
    dropped: next.value.dropped,
    blocks,
    notes: plan.notes,
  };
  const bundle = writeBundle(header, ciphertexts, (data) => identity.sign(data));
  // Written beside the target and renamed over it: a reader never sees half a bundle.
  const tmp = `${opts.out}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, bundle, { flag: 'wx', mode: 0o600 });
    await rename(tmp, opts.out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return {
    bundleId: header.bundleId,
    out: opts.out,
    hospital: identity.hospital,
    hospitalKey: identity.shortKeyId,
    keySet: kit.shortFingerprint,
    rows,
    dropped: header.dropped,
    labeledRows,
    blocks: blocks.length,
    bytes: bundle.length,
    features,
    notes: plan.notes,
    encryptMs,
  };
}
