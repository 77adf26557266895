/**
 * Whether the `index`-th request (0-based) is answered with an injected 500,
 * spread evenly so that any `n` consecutive requests hold `n x rate` errors
 * (rounded), which makes the knob's effect exact rather than random.
 */
export function shouldInjectError(index: number, rate: number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  return Math.floor((index + 1) * rate) > Math.floor(index * rate);
}
