import { shortFingerprint } from '../ckks/keys.ts';
import { writeFileAtomic } from '../common/files.ts';
import { kitJson } from '../federation/kit.ts';
import type { Caller } from './caller.ts';

/** Writes the encryptor kit for hospitals (parameters and public key, no secret) and records the export. */
export async function exportKit(caller: Caller, out: string): Promise<{ fingerprint: string; shortFingerprint: string; preset: string }> {
  const keySet = caller.ws.requireKeySet();
  await writeFileAtomic(out, kitJson(keySet));
  caller.audit('export', { what: 'kit', keySet: keySet.fingerprint });
  return { fingerprint: keySet.fingerprint, shortFingerprint: shortFingerprint(keySet.fingerprint), preset: keySet.preset };
}
