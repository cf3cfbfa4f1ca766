import { z } from 'zod';
import { PRESETS } from '../ckks/presets.ts';
import { BundleError, zodIssues } from './errors.ts';

/*
 * A hospital's encrypted bundle, one file:
 *
 *   "HPAIBNDL"                     8 bytes, magic
 *   u32 version                    big-endian, outside the header so a future layout is recognised as such
 *   u32 H, header JSON (H bytes)   UTF-8; lists blocks, patients (pseudonyms) and every ciphertext's length
 *   per block, per column:         u32 length + SEAL ciphertext (features in header order, then the label)
 *   u32 64, Ed25519 signature      over every byte before this length field
 *
 * Every length is checked against the header and the bytes actually present, and nothing may follow the
 * signature, so a truncated, padded or spliced file is refused before any signature or SEAL work.
 */

export const BUNDLE_MAGIC = 'HPAIBNDL';
export const BUNDLE_VERSION = 1;
// Far above any real header (100,000 patients are ~4 MB) or ciphertext (N=16384 at the top level: ~3 MB),
// low enough that a hostile length cannot make the reader allocate gigabytes.
const MAX_HEADER_BYTES = 256 * 2 ** 20;
const MAX_CIPHERTEXT_BYTES = 32 * 2 ** 20;
const SIGNATURE_BYTES = 64;

const PresetNames = Object.keys(PRESETS) as [keyof typeof PRESETS, ...(keyof typeof PRESETS)[]];
const Count = z.number().int().min(0);

export const BundleHeaderSchema = z
  .object({
    format: z.literal('homopai.bundle'),
    bundleId: z.uuid(),
    createdAt: z.string(),
    hospital: z.object({
      name: z.string().min(1).max(100),
      /** Ed25519 public key, SubjectPublicKeyInfo DER, base64. */
      signingKey: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
    }),
    keySet: z.object({ fingerprint: z.string().regex(/^[0-9a-f]{64}$/), preset: z.enum(PresetNames) }),
    /** range: the physiological range the hospital's importer checked every value against (recognised vitals). */
    features: z
      .array(
        z.object({
          name: z.string().min(1).max(200),
          unit: z.string().max(50),
          range: z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo < hi, 'a range runs from low to high').optional(),
        }),
      )
      .min(1),
    labeled: z.boolean(),
    rows: Count.min(1),
    dropped: Count,
    blocks: z
      .array(
        z.object({
          slots: Count.min(1),
          /** HMAC-SHA-256 pseudonyms, in slot order: the workstation never sees a record number. */
          pseudonyms: z.array(z.string().regex(/^[0-9a-f]{32}$/)),
          labeled: z.array(z.boolean()),
          ciphertextBytes: z.array(Count.min(1).max(MAX_CIPHERTEXT_BYTES)),
        }),
      )
      .min(1),
    notes: z.array(z.string().max(500)).max(100),
  })
  .superRefine((h, ctx) => {
    const columns = h.features.length + (h.labeled ? 1 : 0);
    const seen = new Set<string>();
    let rows = 0;
    h.blocks.forEach((b, i) => {
      if (b.pseudonyms.length !== b.slots || b.labeled.length !== b.slots) {
        ctx.addIssue({ code: 'custom', path: ['blocks', i], message: `${b.slots} slots but ${b.pseudonyms.length} pseudonyms and ${b.labeled.length} label flags` });
      }
      if (b.ciphertextBytes.length !== columns) {
        ctx.addIssue({ code: 'custom', path: ['blocks', i, 'ciphertextBytes'], message: `${b.ciphertextBytes.length} ciphertexts for ${columns} columns` });
      }
      for (const p of b.pseudonyms) seen.add(p);
      rows += b.slots;
    });
    if (rows !== h.rows) ctx.addIssue({ code: 'custom', path: ['rows'], message: `${h.rows} rows but the blocks hold ${rows}` });
    if (seen.size !== rows) ctx.addIssue({ code: 'custom', path: ['blocks'], message: 'a patient pseudonym appears twice' });
    if (new Set(h.features.map((f) => f.name)).size !== h.features.length) {
      ctx.addIssue({ code: 'custom', path: ['features'], message: 'a feature name appears twice' });
    }
  });

export type BundleHeader = z.infer<typeof BundleHeaderSchema>;

export interface ParsedBundle {
  header: BundleHeader;
  /** Per block, per column (features in header order, then the label): views into the bundle's bytes. */
  ciphertexts: Uint8Array[][];
  /** The signed bytes and the signature over them. */
  signed: Uint8Array;
  signature: Uint8Array;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** Assembles and signs a bundle; `ciphertexts[block][column]` must match the header's lengths. */
export function writeBundle(header: BundleHeader, ciphertexts: readonly Uint8Array[][], sign: (data: Uint8Array) => Uint8Array): Uint8Array {
  const checked = BundleHeaderSchema.parse(header);
  const parts: Uint8Array[] = [new TextEncoder().encode(BUNDLE_MAGIC), u32(BUNDLE_VERSION)];
  const json = new TextEncoder().encode(JSON.stringify(checked));
  parts.push(u32(json.length), json);
  checked.blocks.forEach((b, i) => {
    b.ciphertextBytes.forEach((length, j) => {
      const ct = ciphertexts[i]?.[j];
      if (!ct || ct.length !== length) throw new Error(`ciphertext ${j} of block ${i} does not match the header`);
      parts.push(u32(length), ct);
    });
  });
  const signed = Buffer.concat(parts);
  const signature = sign(signed);
  if (signature.length !== SIGNATURE_BYTES) throw new Error('an Ed25519 signature is 64 bytes');
  return Buffer.concat([signed, u32(SIGNATURE_BYTES), signature]);
}

class Reader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  offset = 0;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  take(length: number, what: string): Uint8Array {
    if (this.offset + length > this.bytes.length) {
      throw new BundleError(
        'truncated',
        `the bundle is truncated: ${what} needs ${length} bytes at offset ${this.offset}, but the file ends at ${this.bytes.length}`,
      );
    }
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  u32(what: string): number {
    const at = this.offset;
    this.take(4, what);
    return this.view.getUint32(at);
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }
}

/** Parses the layout and the header; the signature is checked by the caller, against the pinned key. */
export function parseBundle(bytes: Uint8Array): ParsedBundle {
  const r = new Reader(bytes);
  // A file shorter than the magic decodes to a shorter string: refused here too.
  if (new TextDecoder().decode(bytes.subarray(0, BUNDLE_MAGIC.length)) !== BUNDLE_MAGIC) {
    throw new BundleError('not-a-bundle', 'not a HomoPAI bundle (wrong magic bytes)');
  }
  r.take(BUNDLE_MAGIC.length, 'the magic');
  const version = r.u32('the format version');
  if (version !== BUNDLE_VERSION) {
    throw new BundleError('version', `bundle format version ${version} is not supported (this HomoPAI reads version ${BUNDLE_VERSION})`);
  }
  const headerLength = r.u32('the header length');
  if (headerLength > MAX_HEADER_BYTES) throw new BundleError('malformed', `the bundle declares a ${headerLength}-byte header: damaged or not a bundle`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(r.take(headerLength, 'the header')));
  } catch (e) {
    if (e instanceof BundleError) throw e;
    throw new BundleError('malformed', 'the bundle header is not valid JSON: the bundle was damaged or altered');
  }
  const parsed = BundleHeaderSchema.safeParse(json);
  if (!parsed.success) throw new BundleError('malformed', `the bundle header is malformed (${zodIssues(parsed.error)})`);
  const header = parsed.data;
  const ciphertexts = header.blocks.map((b, i) =>
    b.ciphertextBytes.map((declared, j) => {
      const what = `ciphertext ${j + 1} of block ${i + 1}`;
      const length = r.u32(`the length of ${what}`);
      if (length !== declared) throw new BundleError('malformed', `${what} is ${length} bytes, but the header says ${declared}: damaged or altered`);
      return r.take(length, what);
    }),
  );
  const signed = bytes.subarray(0, r.offset);
  const signatureLength = r.u32('the signature length');
  if (signatureLength !== SIGNATURE_BYTES) throw new BundleError('malformed', `the signature is ${signatureLength} bytes, not ${SIGNATURE_BYTES}: damaged or altered`);
  const signature = r.take(SIGNATURE_BYTES, 'the signature');
  if (r.remaining !== 0) throw new BundleError('malformed', `${r.remaining} unexpected bytes follow the signature: damaged or altered`);
  return { header, ciphertexts, signed, signature };
}
