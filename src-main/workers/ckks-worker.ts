import { parentPort, workerData } from 'node:worker_threads';
import type { CkksContext } from '../ckks/context.ts';
import { loadSeal, wasmHeapBytes } from '../ckks/seal.ts';
import { loadCiphertext } from '../ckks/serialize.ts';
import { type EncryptedLrPlan, evaluateLogistic } from '../circuits/inference.ts';
import { EncodedConstants } from '../ckks/encode.ts';
import { contextFor } from '../ckks/contexts.ts';
import { HeldKeys } from './held-keys.ts';
import type { WorkerRequest, WorkerResponse, WorkerResult, WorkerRole } from './protocol.ts';

/* One SEAL module per thread, with the keys it was sent, cached by key id until told to forget them. */
const role = (workerData as { role: WorkerRole }).role;
// Compiling SEAL's WebAssembly takes ~0.5 s: start at once, while the first task is still being prepared.
void loadSeal().catch(() => {});
const keys = new HeldKeys(role);
/*
 * The encoded constants of the plan this thread last evaluated: a prediction sends one plan with every block,
 * so they are encoded once per prediction and per thread. Public material (a model's weights), freed when
 * another plan comes.
 */
let planConstants: { key: string; constants: EncodedConstants } | null = null;

function constantsFor(preset: string, plan: EncryptedLrPlan): EncodedConstants {
  const key = `${preset}:${JSON.stringify(plan)}`;
  if (planConstants?.key !== key) {
    planConstants?.constants[Symbol.dispose]();
    planConstants = { key, constants: new EncodedConstants() };
  }
  return planConstants.constants;
}

/**
 * A freshly encrypted column of this context: bounded and inflated under a hard cap before SEAL sees it
 * (loadCiphertext), then loaded, which makes SEAL validate it, and two polynomials at the top level and exactly
 * the context scale, which the scale-exact circuits rely on.
 */
function checkFresh(ctx: CkksContext, bytes: Uint8Array, what: string): void {
  using ct = loadCiphertext(ctx, bytes, what);
  if (ct.size() !== 2 || ctx.levelOf(ct) !== ctx.topLevel || ct.scale() !== ctx.scale) {
    throw new Error(`${what} is not a freshly encrypted column (size, level or scale differ)`);
  }
}

async function handle(req: WorkerRequest): Promise<{ result: WorkerResult; transfer: ArrayBuffer[] }> {
  switch (req.op) {
    case 'load-encryption-key':
      keys.loadEncryptionKey(req.keyId, await contextFor(req.preset), req.key);
      return { result: null, transfer: [] };
    case 'load-evaluation-keys':
      keys.loadEvaluationKeys(req.keyId, req.preset, await contextFor(req.preset), req.relinKeys);
      return { result: null, transfer: [] };
    case 'encrypt': {
      const enc = keys.encryptor(req.keyId);
      const out = req.columns.map((c) => {
        const bytes = enc.encrypt(c);
        // The plaintext copy this thread received is wiped as soon as it is encrypted.
        c.fill(0);
        return bytes;
      });
      return { result: out, transfer: out.map((b) => b.buffer as ArrayBuffer) };
    }
    case 'evaluate': {
      const ev = keys.evaluator(req.keyId);
      const out = evaluateLogistic(await contextFor(ev.preset), ev.keys, req.features, req.plan, constantsFor(ev.preset, req.plan));
      return { result: out, transfer: [out.bytes.buffer as ArrayBuffer] };
    }
    case 'check-fresh': {
      const ctx = await contextFor(req.preset);
      req.ciphertexts.forEach((bytes, i) => checkFresh(ctx, bytes, req.names[i]!));
      return { result: null, transfer: [] };
    }
    case 'forget':
      keys.forget(req.keyId);
      return { result: null, transfer: [] };
    case 'held':
      return { result: keys.held(), transfer: [] };
    case 'heap':
      return { result: await wasmHeapBytes(), transfer: [] };
  }
}

// Requests are handled strictly in arrival order: a key load must finish before the work that uses it.
let queue = Promise.resolve();
parentPort!.on('message', (req: WorkerRequest) => {
  queue = queue.then(async () => {
    let response: WorkerResponse;
    let transfer: ArrayBuffer[] = [];
    try {
      const done = await handle(req);
      transfer = done.transfer;
      response = { id: req.id, ok: true, result: done.result };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      response = { id: req.id, ok: false, error: { name: err.name, message: err.message } };
    }
    parentPort!.postMessage(response, transfer);
    // A trap leaves the module's memory in an unknown state: end this thread; the pool starts a fresh one.
    if (!response.ok && response.error.name === 'RuntimeError') process.exit(1);
  });
});
