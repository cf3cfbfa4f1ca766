import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import initialize, { type MainModule } from 'node-seal/throws';

export type Seal = MainModule;

export interface SealRuntime {
  readonly seal: Seal;
  /** The module's linear memory, so callers can measure the WebAssembly heap (it only ever grows). */
  readonly memory: WebAssembly.Memory;
}

let runtime: Promise<SealRuntime> | null = null;

function wasmPath(): string {
  // node-seal's package.json "exports" hides the .wasm file; resolve the JS entry and take its sibling.
  const entry = fileURLToPath(import.meta.resolve('node-seal/throws'));
  return join(dirname(entry), 'seal_throws.wasm');
}

async function instantiate(): Promise<SealRuntime> {
  const bytes = await readFile(wasmPath());
  let memory: WebAssembly.Memory | null = null;
  const seal = await initialize({
    // We instantiate ourselves because the emscripten build does not export its memory object, and an
    // honest "WASM heap stays flat" test needs it.
    instantiateWasm(
      imports: WebAssembly.Imports,
      done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
    ) {
      void WebAssembly.instantiate(bytes, imports).then(({ instance, module }) => {
        memory = Object.values(instance.exports).find((e) => e instanceof WebAssembly.Memory) ?? null;
        done(instance, module);
      });
      return {};
    },
  });
  if (!memory) throw new Error('node-seal: WebAssembly memory not found in module exports');
  return { seal, memory };
}

/** One SEAL module per thread: loading compiles ~2 MB of WebAssembly, so it is shared. */
export function loadSeal(): Promise<SealRuntime> {
  runtime ??= instantiate().catch((e: unknown) => {
    runtime = null;
    throw e;
  });
  return runtime;
}

export async function wasmHeapBytes(): Promise<number> {
  return (await loadSeal()).memory.buffer.byteLength;
}
