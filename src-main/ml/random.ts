/**
 * Seeded randomness. Synthetic cohorts, splits and undersampling must be reproducible from a
 * seed so an experiment (and its encrypted twin) can be re-run bit for bit; Math.random cannot be seeded.
 */

/** Mulberry32: 32-bit state, fast, good enough statistically for simulation; returns values in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal sample via Box–Muller (the sine twin is discarded to keep the call stateless). */
export function gaussian(rand: () => number): number {
  // rand() can return exactly 0, and log(0) is -Infinity; 1 - rand() lies in (0, 1].
  const u1 = 1 - rand();
  const u2 = rand();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
