import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANCHOR_FILE } from '../../src-main/audit/anchor.ts';
import { homopai } from '../helpers/cli.ts';
import { tempDir } from '../helpers/workspace.ts';
import { copyWorkspace, editDb, pilotWorkspace } from './attacker.ts';

/*
 * Attack 5: with the append-only triggers dropped, delete the last entries of the activity log, or rewrite a
 * whole suffix and re-hash it; the hash chain alone still verified "intact". The log's head is now signed into
 * an anchor outside the table with a key the .db holder does not have. Each attack runs `homopai audit verify`
 * as an auditor would, with no secret, and expects it to fail (exit 2) and say what happened.
 */

interface Row {
  seq: number;
  at: string;
  actor: string;
  role: string;
  action: string;
  detail: string;
  prev_hash: string;
}

/** What the attacker recomputes: the chain's own hash (audit/log.ts), from the public format. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function rehash(prev: string, r: Row): string {
  const body = canonical({ seq: r.seq, at: r.at, actor: r.actor, role: r.role, action: r.action, detail: JSON.parse(r.detail) });
  return createHash('sha256').update(prev).update(body).digest('hex');
}

async function verify(dir: string, extra: string[] = []): Promise<{ code: number; out: string }> {
  const r = await homopai(['audit', 'verify', '--workspace', dir, ...extra]);
  return { code: r.code, out: r.stdout };
}

describe('attack 5: truncating or rewriting the activity log', () => {
  const tmp = tempDir('homopai-attack-audit-');
  const base = join(tmp.dir, 'base');
  beforeAll(() => pilotWorkspace(base));
  afterAll(() => tmp[Symbol.dispose]());

  it('verifies an untouched log, anchored at its last entry', async () => {
    const r = await verify(base);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^activity log intact: (\d+) entries, head [0-9a-f]{64}; anchored at entry \1 /);
  });

  it('catches the last entries deleted with the triggers dropped', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'cut'));
    editDb(ws, (db) => {
      db.exec('DROP TRIGGER audit_log_no_delete');
      db.exec('DELETE FROM audit_log WHERE seq > (SELECT MAX(seq) - 2 FROM audit_log)');
    });
    const r = await verify(ws);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/activity log BROKEN at entry \d+: entries \d+\.\.\d+ are missing: the anchor \(.*\) vouches for \d+, the log holds \d+/);
  });

  it('catches a suffix rewritten and re-hashed so that the chain verifies', async () => {
    const ws = copyWorkspace(base, join(tmp.dir, 'rewrite'));
    editDb(ws, (db) => {
      db.exec('DROP TRIGGER audit_log_no_update');
      const rows = db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as (Row & { hash: string })[];
      // From the 'decrypt' entries on, every record is changed (the decryption never happened) and re-chained.
      const from = rows.findIndex((r) => r.action === 'decrypt');
      let prev = rows[from - 1]!.hash;
      for (const r of rows.slice(from)) {
        const forged = { ...r, action: r.action === 'decrypt' ? 'predict' : r.action, prev_hash: prev };
        const hash = rehash(prev, forged);
        db.prepare('UPDATE audit_log SET action = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(forged.action, prev, hash, r.seq);
        prev = hash;
      }
    });
    const r = await verify(ws);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/no longer has the hash the anchor .* signed: the log was rewritten up to it/);
  });

  it('catches the anchor removed, altered, or re-made under another key', async () => {
    const removed = copyWorkspace(base, join(tmp.dir, 'no-anchor'));
    rmSync(join(removed, ANCHOR_FILE));
    expect((await verify(removed)).out).toMatch(/anchor \(audit-anchor\.json\) is missing/);

    const altered = copyWorkspace(base, join(tmp.dir, 'altered'));
    const anchor = JSON.parse(readFileSync(join(altered, ANCHOR_FILE), 'utf8')) as { entries: number };
    writeFileSync(join(altered, ANCHOR_FILE), JSON.stringify({ ...anchor, entries: anchor.entries - 2 }));
    expect(await verify(altered)).toMatchObject({ code: 2, out: expect.stringMatching(/signature does not verify/) });

    // An attacker with the whole folder cuts the log and re-anchors it under a key of their own, following the
    // anchor's public format: chain and signature verify, but not against the anchor key an auditor pinned from
    // an earlier signed report.
    const pinned = JSON.parse((await homopai(['audit', 'verify', '--workspace', base, '--json'])).stdout) as { anchor: { keyFingerprint: string } };
    const swapped = copyWorkspace(base, join(tmp.dir, 'swapped'));
    let head = { seq: 0, hash: '' };
    editDb(swapped, (db) => {
      db.exec('DROP TRIGGER audit_log_no_delete');
      db.exec('DELETE FROM audit_log WHERE seq > (SELECT MAX(seq) - 2 FROM audit_log)');
      head = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as typeof head;
    });
    const original = JSON.parse(readFileSync(join(swapped, ANCHOR_FILE), 'utf8')) as { keySet: string };
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const at = new Date().toISOString();
    const signature = sign(null, Buffer.from(JSON.stringify(['homopai.audit-anchor.v1', original.keySet, head.seq, head.hash, at])), privateKey);
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const forged = { format: 'homopai.audit-anchor', version: 1, keySet: original.keySet, entries: head.seq, head: head.hash, at, publicKey: raw.toString('base64'), signature: signature.toString('base64') };
    writeFileSync(join(swapped, ANCHOR_FILE), JSON.stringify(forged));
    // Unpinned, the forgery is internally consistent (README says so: pin the key, or compare with a report) ...
    expect((await verify(swapped)).code).toBe(0);
    // ... pinned, it is caught.
    const r = await verify(swapped, ['--anchor-key', pinned.anchor.keyFingerprint]);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/the anchor is signed by key [0-9a-f]{16}, not this workspace's [0-9a-f]{16}: log and anchor were replaced/);
  });
});
