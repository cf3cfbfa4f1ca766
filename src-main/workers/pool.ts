import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { EncryptionKey } from '../ckks/encrypt.ts';
import type { EncryptedLrPlan } from '../circuits/inference.ts';
import type { RequestOf, WorkerOp, WorkerRequest, WorkerResponse, WorkerResult, WorkerResults, WorkerRole } from './protocol.ts';

type Pending = { resolve: (r: WorkerResult) => void; reject: (e: Error) => void };

/** Runs from the sources (Node type stripping in dev and tests) and from the electron-vite build alike. */
function workerUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './ckks-worker.ts' : './ckks-worker.js', import.meta.url);
}

class Slot {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  readonly loaded = new Set<string>();
  dead = false;

  constructor(role: WorkerRole) {
    this.worker = new Worker(workerUrl(), { workerData: { role } });
    this.worker.on('message', (res: WorkerResponse) => {
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      if (this.pending.size === 0) this.worker.unref();
      if (res.ok) p.resolve(res.result);
      else p.reject(Object.assign(new Error(res.error.message), { name: res.error.name }));
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => this.failAll(new Error(`CKKS worker exited (code ${code})`)));
    // An idle pool must not keep the CLI alive, a busy one must (see send). After the listeners: attaching a
    // 'message' listener refs the worker again.
    this.worker.unref();
  }

  private failAll(e: Error): void {
    this.dead = true;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.loaded.clear();
  }
}

export interface EncryptionKeyRef {
  preset: string;
  keyId: string;
  key: EncryptionKey;
}

export interface EvaluationKeyRef {
  preset: string;
  keyId: string;
  relinKeys: Uint8Array;
}

/**
 * A fixed set of CKKS worker threads (one SEAL module each), sized to the cores. Keys are sent to a worker once,
 * on its first task for them. Callers bound their own in-flight work (see `window`), which gives back-pressure
 * from the slowest stage to the reader.
 */
export class CkksPool {
  readonly role: WorkerRole;
  readonly size: number;
  private readonly slots: Slot[];
  private nextId = 1;

  constructor(role: WorkerRole, size = availableParallelism()) {
    this.role = role;
    this.size = Math.max(1, size);
    this.slots = Array.from({ length: this.size }, () => new Slot(role));
  }

  /** The least busy worker; a worker that died (out of memory, a crash) is replaced first. */
  private pick(): Slot {
    this.slots.forEach((s, i) => {
      if (s.dead) this.slots[i] = new Slot(this.role);
    });
    return this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  /** Sends a key to a worker once; a failed load is not remembered, and its error is the one reported. */
  private ensureKey(slot: Slot, keyId: string, load: WorkerRequest): Promise<unknown> {
    if (slot.loaded.has(keyId)) return Promise.resolve();
    slot.loaded.add(keyId);
    return this.send(slot, load).catch((e: unknown) => {
      slot.loaded.delete(keyId);
      throw e;
    });
  }

  /** The worker answers each request with its operation's result type (ckks-worker.ts handles them so). */
  private send<Op extends WorkerOp>(slot: Slot, req: RequestOf<Op>, transfer: ArrayBuffer[] = []): Promise<WorkerResults[Op]> {
    if (slot.dead) return Promise.reject(new Error('CKKS worker is gone'));
    return new Promise((resolve, reject) => {
      slot.pending.set(req.id, { resolve: resolve as (r: WorkerResult) => void, reject });
      slot.worker.ref();
      slot.worker.postMessage(req, transfer);
    });
  }

  private id(): number {
    return this.nextId++;
  }

  async encrypt(ref: EncryptionKeyRef, columns: Float64Array[]): Promise<Uint8Array[]> {
    const slot = this.pick();
    const loading = this.ensureKey(slot, ref.keyId, { id: this.id(), op: 'load-encryption-key', preset: ref.preset, keyId: ref.keyId, key: ref.key });
    // The plaintext columns move to the worker (no copy stays here); it wipes them after encrypting.
    const work = this.send(slot, { id: this.id(), op: 'encrypt', keyId: ref.keyId, columns }, columns.map((c) => c.buffer as ArrayBuffer));
    const [, result] = await Promise.all([loading, work]);
    return result;
  }

  /**
   * `move`: the feature bytes move to the worker instead of being copied, and the caller's views are left empty
   * (detached); for a caller that is done with them, such as a prediction streaming blocks from the store, where
   * copying a megabyte per block both ways cost more than the logit's additions.
   */
  async evaluate(ref: EvaluationKeyRef, features: Uint8Array[], plan: EncryptedLrPlan, move = false): Promise<{ bytes: Uint8Array; level: number }> {
    const slot = this.pick();
    const loading = this.ensureKey(slot, ref.keyId, { id: this.id(), op: 'load-evaluation-keys', preset: ref.preset, keyId: ref.keyId, relinKeys: ref.relinKeys });
    const transfer = move ? movable(features) : [];
    const [, result] = await Promise.all([loading, this.send(slot, { id: this.id(), op: 'evaluate', keyId: ref.keyId, features, plan }, transfer)]);
    return result;
  }

  /**
   * Checks untrusted ciphertexts (a hospital's bundle) on a worker thread: whatever SEAL allocates loading a
   * hostile one is in that thread's heap, which dies with it (a trap ends the worker; the pool starts a new one).
   */
  async checkFresh(preset: string, ciphertexts: Uint8Array[], names: string[]): Promise<void> {
    await this.send(this.pick(), { id: this.id(), op: 'check-fresh', preset, ciphertexts, names });
  }

  /** Drops a key from every worker (the encryptors' copy of a secret key once an import is done). */
  async forget(keyId: string): Promise<void> {
    await Promise.all(
      this.slots.filter((s) => s.loaded.delete(keyId)).map((s) => this.send(s, { id: this.id(), op: 'forget', keyId })),
    );
  }

  /** The key ids each worker holds, as the workers themselves answer (not this pool's bookkeeping). */
  async heldKeys(): Promise<string[][]> {
    return Promise.all(this.slots.map((s) => this.send(s, { id: this.id(), op: 'held' })));
  }

  /** WebAssembly heap of each worker, for the memory benchmarks and tests. */
  async heapBytes(): Promise<number[]> {
    return Promise.all(this.slots.map((s) => this.send(s, { id: this.id(), op: 'heap' })));
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/** The buffers behind views that span all of them (SQLite's blobs do); a view into a larger buffer is copied. */
function movable(views: readonly Uint8Array[]): ArrayBuffer[] {
  const whole = views.filter((v) => v.byteOffset === 0 && v.byteLength === v.buffer.byteLength).map((v) => v.buffer as ArrayBuffer);
  return [...new Set(whole)];
}

const shared = new Map<WorkerRole, CkksPool>();

/** The process-wide pool of a role, created on first use. */
export function sharedPool(role: WorkerRole): CkksPool {
  let pool = shared.get(role);
  if (!pool) {
    pool = new CkksPool(role);
    shared.set(role, pool);
  }
  return pool;
}

/**
 * Runs `work` for each item with at most `limit` in flight and hands results to `done` in item order, so a
 * fast producer (the CSV reader) waits for the slowest stage instead of queueing unbounded plaintext.
 */
export class OrderedWindow<T> {
  private readonly limit: number;
  private readonly done: (result: T) => void | Promise<void>;
  private readonly inFlight: Promise<T>[] = [];

  constructor(limit: number, done: (result: T) => void | Promise<void>) {
    this.limit = limit;
    this.done = done;
  }

  async push(work: Promise<T>): Promise<void> {
    // A rejection is observed when its turn comes; until then it must not count as unhandled.
    work.catch(() => {});
    this.inFlight.push(work);
    while (this.inFlight.length >= this.limit) await this.done(await this.inFlight.shift()!);
  }

  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.done(await this.inFlight.shift()!);
  }
}
