import { VaultError } from './vault.ts';

/** keytar's native module failed to load (not installed, not built for this Node, or libsecret missing). */
export class KeytarLoadError extends Error {
  constructor(cause: unknown) {
    super(`the keytar native module could not be loaded: ${firstLine(cause)}`);
    this.name = 'KeytarLoadError';
  }
}

export class KeychainTimeout extends Error {
  constructor(ms: number) {
    super(`it did not answer within ${ms / 1000} s: a hung D-Bus session, or an unlock prompt nobody answered`);
    this.name = 'KeychainTimeout';
  }
}

/**
 * Bounds a keychain call. The native call itself cannot be cancelled and keeps its libuv thread until D-Bus
 * answers, but the caller gets an error instead of a frozen app.
 */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KeychainTimeout(ms)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

const ADVICE = 'Unlock or start your keyring (e.g. GNOME Keyring), or use the passphrase vault: --custody passphrase';

export function keychainUnavailable(reason: string): VaultError {
  return new VaultError('unavailable', `The OS keychain is not available (${reason}). ${ADVICE}`);
}

/*
 * The messages matched below were measured with keytar 7.9 / libsecret on Linux. Anything else (macOS,
 * Windows, a libsecret release that rewords) still becomes 'unavailable', carrying the first line of the
 * original message, so an unknown failure is never shown as a stack trace.
 */
const KNOWN: readonly (readonly [RegExp, string])[] = [
  [/autolaunch D-Bus/i, 'no D-Bus session: DBUS_SESSION_BUS_ADDRESS is not set'],
  [/org\.freedesktop\.secrets was not provided|ServiceUnknown/i, 'no Secret Service on the D-Bus session'],
  // Locked with no way to prompt; "collection/login does not exist" is a first run that could not prompt to create it.
  [/locked collection|collection\/login/i, 'the keyring is locked, or has no default keyring, and no unlock prompt could be shown'],
];

/** One actionable VaultError for any failure of a keychain call. */
export function keychainError(e: unknown): VaultError {
  if (e instanceof VaultError) return e;
  if (e instanceof KeychainTimeout || e instanceof KeytarLoadError) return keychainUnavailable(e.message);
  const message = firstLine(e);
  const known = KNOWN.find(([pattern]) => pattern.test(message));
  return keychainUnavailable(known ? known[1] : message);
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split('\n', 1)[0]!.trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
