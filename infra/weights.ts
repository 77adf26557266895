import { Color, otherColor } from "./config";

export type ColorWeights = Record<Color, number>;

/** The stable colour gets `100 - canaryWeight`, the canary colour `canaryWeight`. */
export function weightsFor(stableColor: Color, canaryWeight: number): ColorWeights {
  const weights = { blue: 0, green: 0 };
  weights[stableColor] = 100 - canaryWeight;
  weights[otherColor(stableColor)] = canaryWeight;
  return weights;
}
