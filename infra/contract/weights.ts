import { Color, otherColor } from "./settings";

export type ColorWeights = Record<Color, number>;

/** The stable colour gets `100 - canaryWeight`, the canary colour `canaryWeight`. */
export function weightsFor(stableColor: Color, canaryWeight: number): ColorWeights {
  const weights = { blue: 0, green: 0 };
  weights[stableColor] = 100 - canaryWeight;
  weights[otherColor(stableColor)] = canaryWeight;
  return weights;
}

/** Task set scale per colour, percent of desiredCount: the stable's 100, the canary's `canaryScale`. */
export function scalesFor(stableColor: Color, canaryScale: number): Record<Color, number> {
  const scales = { blue: 0, green: 0 };
  scales[stableColor] = 100;
  scales[otherColor(stableColor)] = canaryScale;
  return scales;
}
