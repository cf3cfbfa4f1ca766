/** Anything backed by WebAssembly memory that must be freed explicitly (every node-seal handle). */
export interface Deletable {
  delete(): void;
  isDeleted(): boolean;
}

/**
 * Collects WebAssembly-backed objects and deletes them all, in reverse order, when the scope ends
 * (`using scope = new Scope()`). node-seal 7's `deleteLater` never frees, and the garbage collector cannot
 * see the C++ heap, so every handle we create goes through a scope or a `using` declaration.
 */
export class Scope implements Disposable {
  private readonly owned: Deletable[] = [];

  track<T extends Deletable>(handle: T): T {
    this.owned.push(handle);
    return handle;
  }

  [Symbol.dispose](): void {
    for (let i = this.owned.length - 1; i >= 0; i--) {
      const h = this.owned[i]!;
      if (!h.isDeleted()) h.delete();
    }
    this.owned.length = 0;
  }
}
