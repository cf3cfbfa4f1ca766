import { z } from 'zod';
import { fingerprintOf, shortFingerprint } from '../ckks/keys.ts';
import { type Preset, presetByName, PRESETS } from '../ckks/presets.ts';
import type { KeySetRow } from '../store/keysets.ts';
import { KitError, zodIssues } from './errors.ts';

/*
 * The encryptor kit: what a hospital needs to encrypt for this workspace, and nothing secret. The public key
 * is the key set's identity (its SHA-256 is the fingerprint), so a kit whose key does not hash to its
 * fingerprint was altered; the short fingerprint is what the hospital confirms with the key holder by phone or
 * on paper before trusting the file.
 */

const Base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/);
const PresetNames = Object.keys(PRESETS) as [keyof typeof PRESETS, ...(keyof typeof PRESETS)[]];

export const KitSchema = z.object({
  format: z.literal('homopai.kit'),
  version: z.literal(1),
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  shortFingerprint: z.string().regex(/^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/),
  parameters: z.object({
    preset: z.enum(PresetNames),
    polyModulusDegree: z.number().int(),
    coeffModulusBits: z.array(z.number().int()),
    scaleBits: z.number().int(),
    securityBits: z.literal(128),
  }),
  publicKey: Base64,
  createdAt: z.string(),
  note: z.string(),
});

export interface Kit {
  fingerprint: string;
  shortFingerprint: string;
  preset: Preset;
  publicKey: Uint8Array;
}

export function kitJson(keySet: Pick<KeySetRow, 'fingerprint' | 'preset' | 'publicKey'>, now = new Date()): string {
  const preset = presetByName(keySet.preset);
  const kit: z.infer<typeof KitSchema> = {
    format: 'homopai.kit',
    version: 1,
    fingerprint: keySet.fingerprint,
    shortFingerprint: shortFingerprint(keySet.fingerprint),
    parameters: {
      preset: preset.name,
      polyModulusDegree: preset.polyModulusDegree,
      coeffModulusBits: [...preset.coeffModulusBits],
      scaleBits: preset.scaleBits,
      securityBits: preset.securityBits,
    },
    publicKey: Buffer.from(keySet.publicKey).toString('base64'),
    createdAt: now.toISOString(),
    note:
      'HomoPAI encryptor kit: CKKS parameters and public key only, no secret. Confirm the short fingerprint ' +
      'with the key holder (phone or paper) before encrypting with it.',
  };
  return `${JSON.stringify(kit, null, 2)}\n`;
}

/** Validates a kit file's text: structure, fingerprint of the public key, and parameters of its preset. */
export function parseKit(text: string, what = 'the kit'): Kit {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KitError(`${what} is not JSON: not a HomoPAI encryptor kit, or damaged`);
  }
  const r = KitSchema.safeParse(json);
  if (!r.success) throw new KitError(`${what} is not a valid HomoPAI encryptor kit (${zodIssues(r.error)})`);
  const kit = r.data;
  const publicKey = new Uint8Array(Buffer.from(kit.publicKey, 'base64'));
  if (fingerprintOf(publicKey) !== kit.fingerprint || shortFingerprint(kit.fingerprint) !== kit.shortFingerprint) {
    throw new KitError(`${what} was altered or damaged: its public key does not match its fingerprint`);
  }
  const preset = presetByName(kit.parameters.preset);
  const p = kit.parameters;
  if (
    p.polyModulusDegree !== preset.polyModulusDegree ||
    p.scaleBits !== preset.scaleBits ||
    p.coeffModulusBits.join() !== preset.coeffModulusBits.join()
  ) {
    throw new KitError(`${what} declares parameters that differ from this HomoPAI's "${preset.name}" preset`);
  }
  return { fingerprint: kit.fingerprint, shortFingerprint: kit.shortFingerprint, preset, publicKey };
}
