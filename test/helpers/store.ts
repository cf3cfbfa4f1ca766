import { listBatches, patientsOfBatch } from '../../src-main/store/batches.ts';
import { blocksOf, LABEL_COLUMN } from '../../src-main/store/ciphertexts.ts';
import type { Db } from '../../src-main/store/db.ts';
import type { RowMac } from '../../src-main/store/row-mac.ts';

/**
 * Rows per data table: a rejected or interrupted import must leave every count as it was. The activity log is
 * left out: it records the rejection (auditEntries).
 */
export function tableCounts(db: Db): Record<string, number> {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'audit_log'").pluck().all() as string[];
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT COUNT(*) FROM "${t}"`).pluck().get() as number]));
}

/**
 * Every way a stored batch can be partial, as readable problems ([] when each batch is whole): counts that
 * disagree with its patients, blocks missing, a block missing a column, ciphertexts whose slots disagree with
 * the block's patients or that fail verification, rows pointing at nothing.
 */
export function partialBatches(db: Db, mac: RowMac): string[] {
  const problems: string[] = [];
  for (const batch of listBatches(db)) {
    const where = `batch ${batch.id}`;
    if (batch.rows <= 0) problems.push(`${where}: rows = ${batch.rows}`);
    const perBlock = new Map<number, number>();
    for (const p of patientsOfBatch(db, batch.id)) perBlock.set(p.block, (perBlock.get(p.block) ?? 0) + 1);
    const patients = [...perBlock.values()].reduce((a, b) => a + b, 0);
    if (patients !== batch.rows) problems.push(`${where}: ${patients} patients for rows = ${batch.rows}`);
    const features = batch.features.map((f) => f.name);
    let blocks = 0;
    let labeledBlocks = 0;
    try {
      for (const block of blocksOf(db, mac, batch.id)) {
        if (block.block !== blocks) problems.push(`${where}: block ${block.block} where block ${blocks} was expected`);
        blocks++;
        if (block.columns.has(LABEL_COLUMN)) labeledBlocks++;
        const missing = features.filter((f) => !block.columns.has(f));
        if (missing.length > 0) problems.push(`${where}, block ${block.block}: no ciphertext for ${missing.join(', ')}`);
        for (const c of block.columns.values()) {
          if (c.slots !== perBlock.get(block.block)) {
            problems.push(`${where}, block ${block.block}: "${c.columnName}" holds ${c.slots} slots for ${perBlock.get(block.block) ?? 0} patients`);
          }
        }
      }
    } catch (e) {
      problems.push(`${where}: ${(e as Error).message}`);
    }
    if (blocks !== perBlock.size) problems.push(`${where}: ${blocks} ciphertext blocks for ${perBlock.size} blocks of patients`);
    if (labeledBlocks !== 0 && labeledBlocks !== blocks) problems.push(`${where}: labels in ${labeledBlocks} of ${blocks} blocks`);
    if (batch.labeledRows > 0 && labeledBlocks === 0) problems.push(`${where}: ${batch.labeledRows} labeled rows but no label ciphertext`);
  }
  const dangling = (db.pragma('foreign_key_check') as unknown[]).length;
  if (dangling > 0) problems.push(`${dangling} row(s) reference a missing parent`);
  return problems;
}
