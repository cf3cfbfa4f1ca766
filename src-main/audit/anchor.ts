import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Db } from '../store/db.ts';
import type { RowMac } from '../store/row-mac.ts';
import { verifyAudit } from './log.ts';

/*
 * The activity log's anchor. The hash chain shows an entry edited or removed in the middle, but someone holding
 * homopai.db can drop the append-only triggers, delete the last entries, or rewrite a whole suffix and re-hash
 * it: the chain still verifies. The anchor is kept outside the table, in the workspace folder: the entry count and
 * head hash, signed with an Ed25519 key derived from the integrity key (which the .db holder does not have),
 * rewritten after every entry a key holder commits. A log shorter than its anchor, or whose entry at the
 * anchored count no longer has the anchored hash, is reported. The public key is in the anchor and in every
 * signed report, so an auditor checks it without any secret; pinning it (--anchor-key) guards against a whole
 * folder re-anchored under a key of the attacker's own.
 *
 * What it cannot see: someone who replaces the folder with an older copy (log and anchor together) rolls back
 * to that older state; an auditor sees it by comparing with the head in the latest signed report.
 */

export const ANCHOR_FILE = 'audit-anchor.json';

const AnchorSchema = z.object({
  format: z.literal('homopai.audit-anchor'),
  version: z.literal(1),
  keySet: z.string().regex(/^[0-9a-f]{64}$/),
  entries: z.number().int().min(0),
  head: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string(),
  /** Ed25519 public key, raw 32 bytes, base64. */
  publicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/),
});
type Anchor = z.infer<typeof AnchorSchema>;

function signedBytes(a: Omit<Anchor, 'signature' | 'publicKey'>): Buffer {
  return Buffer.from(JSON.stringify(['homopai.audit-anchor.v1', a.keySet, a.entries, a.head, a.at]));
}

/** SHA-256 of the raw public key: what reports print and --anchor-key pins. */
export function anchorKeyFingerprint(publicKeyBase64: string): string {
  return createHash('sha256').update(Buffer.from(publicKeyBase64, 'base64')).digest('hex');
}

function head(db: Db): { entries: number; head: string } | null {
  const r = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  return r ? { entries: r.seq, head: r.hash } : null;
}

/** Signs the log's current head into the anchor file (written whole, then renamed over the old one). */
export function writeAnchor(dir: string, db: Db, mac: RowMac): void {
  const h = head(db);
  if (!h) return;
  const body = { format: 'homopai.audit-anchor' as const, version: 1 as const, keySet: mac.fingerprint, ...h, at: new Date().toISOString() };
  const { publicKey, signature } = mac.signAnchor(signedBytes(body));
  const anchor: Anchor = { ...body, publicKey: publicKey.toString('base64'), signature: signature.toString('base64') };
  const path = join(dir, ANCHOR_FILE);
  const tmp = `${path}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(anchor, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export type AuditCheck =
  | {
      ok: true;
      entries: number;
      head: string;
      /** What the anchor vouches for; entries after it were written by someone without the integrity key. */
      anchor: { entries: number; at: string; keyFingerprint: string } | null;
      unanchored: number;
    }
  | { ok: false; entries: number; brokenAt: number; reason: string };

function readAnchor(dir: string): Anchor | 'missing' | 'malformed' {
  let text: string;
  try {
    text = readFileSync(join(dir, ANCHOR_FILE), 'utf8');
  } catch {
    return 'missing';
  }
  try {
    const r = AnchorSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : 'malformed';
  } catch {
    return 'malformed';
  }
}

/**
 * The chain from genesis, then the anchor: signature valid, its key the expected one (derived from the integrity
 * key when it is loaded, or pinned by fingerprint), the log at least as long as anchored and still holding the
 * anchored hash at that entry.
 */
export function checkAuditLog(dir: string, db: Db, expect: { mac?: RowMac | null; keyFingerprint?: string } = {}): AuditCheck {
  const chain = verifyAudit(db);
  if (!chain.ok) return chain;
  if (chain.entries === 0) return { ...chain, anchor: null, unanchored: 0 };
  const broken = (brokenAt: number, reason: string): AuditCheck => ({ ok: false, entries: chain.entries, brokenAt, reason });
  const anchor = readAnchor(dir);
  if (anchor === 'missing') return broken(chain.entries, `the log's signed anchor (${ANCHOR_FILE}) is missing: the log cannot be shown whole`);
  if (anchor === 'malformed') return broken(chain.entries, `the log's signed anchor (${ANCHOR_FILE}) is damaged or altered`);
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(anchor.publicKey, 'base64').toString('base64url') }, format: 'jwk' });
  if (!verify(null, signedBytes(anchor), publicKey, Buffer.from(anchor.signature, 'base64'))) {
    return broken(anchor.entries, `the anchor's signature does not verify: ${ANCHOR_FILE} was altered`);
  }
  const keyFingerprint = anchorKeyFingerprint(anchor.publicKey);
  const expected = expect.mac ? anchorKeyFingerprint(expect.mac.signAnchor(Buffer.alloc(0)).publicKey.toString('base64')) : expect.keyFingerprint;
  if (expected !== undefined && expected !== keyFingerprint) {
    return broken(anchor.entries, `the anchor is signed by key ${keyFingerprint.slice(0, 16)}, not this workspace's ${expected.slice(0, 16)}: log and anchor were replaced`);
  }
  if (chain.entries < anchor.entries) {
    return broken(chain.entries + 1, `entries ${chain.entries + 1}..${anchor.entries} are missing: the anchor (${anchor.at}) vouches for ${anchor.entries}, the log holds ${chain.entries}`);
  }
  const atAnchor = db.prepare('SELECT hash FROM audit_log WHERE seq = ?').pluck().get(anchor.entries) as string | undefined;
  if (atAnchor !== anchor.head) {
    return broken(anchor.entries, `entry ${anchor.entries} no longer has the hash the anchor (${anchor.at}) signed: the log was rewritten up to it`);
  }
  return { ...chain, anchor: { entries: anchor.entries, at: anchor.at, keyFingerprint }, unanchored: chain.entries - anchor.entries };
}
