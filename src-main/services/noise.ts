import { randomBytes } from 'node:crypto';

/** Uniform in (0, 1), from 53 bits of the OS's CSPRNG: Math.random() is not for privacy. */
function uniform(): number {
  const b = randomBytes(8);
  const bits = (b.readUInt32BE(0) >>> 5) * 2 ** 26 + (b.readUInt32BE(4) >>> 6);
  return (bits + 0.5) / 2 ** 53;
}

/** One draw of Laplace noise with the given scale (sensitivity / epsilon), by inverting its CDF. */
export function laplace(scale: number): number {
  if (!(scale >= 0) || !Number.isFinite(scale)) throw new RangeError('a Laplace scale must be a finite non-negative number');
  const u = uniform() - 0.5;
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}
