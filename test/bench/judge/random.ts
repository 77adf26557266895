/**
 * A small seeded PRNG and the samplers the simulator needs. Deterministic: the same seed gives
 * the same stream on every machine (32-bit integer arithmetic only, then IEEE doubles).
 *
 * - Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counter, from PractRand), seeded with
 *   splitmix32 so that neighbouring seeds give unrelated streams.
 * - Normal: Box-Muller, both values used.
 * - Poisson: inversion by sequential search for means below 10; above, Hormann's PTRS
 *   ("The transformed rejection method for generating Poisson random variables", 1993), exact.
 * - Gamma (shape >= 1): Marsaglia & Tsang (2000), exact.
 */

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const LOG_FACTORIAL: number[] = (() => {
  const t = [0];
  for (let k = 1; k < 256; k++) t.push(t[k - 1] + Math.log(k));
  return t;
})();

/** log(k!) for integer k >= 0: a table below 256, Stirling's series (error < 1e-15) above. */
export function logFactorial(k: number): number {
  if (k < 256) return LOG_FACTORIAL[k];
  const x = k + 1;
  return (
    (x - 0.5) * Math.log(x) -
    x +
    0.5 * Math.log(2 * Math.PI) +
    1 / (12 * x) -
    1 / (360 * x * x * x) +
    1 / (1260 * x * x * x * x * x)
  );
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  /** A stream for a seed made of one or more 32-bit integers (e.g. scenario and run). */
  constructor(...seed: number[]) {
    let mix = 0x6a09e667;
    for (const s of seed) mix = splitmix32((mix ^ (s >>> 0)) >>> 0)();
    const next = splitmix32(mix);
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** sfc32 step. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  poisson(mean: number): number {
    if (!(mean >= 0) || !Number.isFinite(mean)) {
      throw new RangeError(`poisson mean must be a finite number >= 0, got ${mean}`);
    }
    if (mean === 0) return 0;
    if (mean < 10) {
      let p = Math.exp(-mean);
      let f = p;
      let k = 0;
      const u = this.uniform();
      while (u > f && p > 0) {
        k++;
        p *= mean / k;
        f += p;
      }
      return k;
    }
    // PTRS, as published; constants from Hormann (1993), Table 1.
    const slam = Math.sqrt(mean);
    const loglam = Math.log(mean);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.uniform() - 0.5;
      const v = this.uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (
        Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <=
        -mean + k * loglam - logFactorial(k)
      ) {
        return k;
      }
    }
  }

  /** Gamma(shape, 1) for shape >= 1. */
  gamma(shape: number): number {
    if (!(shape >= 1)) throw new RangeError(`gamma shape must be >= 1, got ${shape}`);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const t = 1 + c * x;
      if (t <= 0) continue;
      const v = t * t * t;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }
}
