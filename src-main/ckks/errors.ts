import type { Seal } from './seal.ts';

/** A failure reported by SEAL itself (invalid parameters, scale out of bounds, mismatched keys...). */
export class SealError extends Error {
  readonly operation: string;
  readonly sealType: string;
  constructor(operation: string, sealType: string, detail: string) {
    super(`${operation} failed in SEAL (${sealType}): ${detail}`);
    this.name = 'SealError';
    this.operation = operation;
    this.sealType = sealType;
  }
}

/** Ciphertexts or keys that belong to another key set or parameter set: refused before any SEAL call. */
export class KeySetMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeySetMismatchError';
  }
}

// TypeScript's DOM/ES libs do not declare WebAssembly.Exception (exception handling proposal) yet.
const WasmException = (WebAssembly as unknown as { Exception?: abstract new (...args: never[]) => object }).Exception;

/**
 * Runs a SEAL call and turns a thrown `WebAssembly.Exception` (whose payload is only readable through
 * `getExceptionMessage`, as a [type, message] pair) into a SealError with a readable message.
 */
export function sealCall<T>(seal: Seal, operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (WasmException && e instanceof WasmException) {
      const [type, message] = (seal as unknown as { getExceptionMessage(e: unknown): [string, string] })
        .getExceptionMessage(e);
      throw new SealError(operation, type, message);
    }
    throw e;
  }
}
