/**
 * Smooth weighted round-robin (the nginx algorithm): over any run of
 * `sum(weights)` picks every candidate gets exactly its weight, interleaved
 * rather than in bursts. Candidates left out of a pick keep their place.
 */
export class SmoothWeightedPicker {
  private readonly current = new Map<string, number>();

  pick(candidates: readonly { id: string; weight: number }[]): string | undefined {
    let total = 0;
    let best: string | undefined;
    let bestScore = -Infinity;
    for (const { id, weight } of candidates) {
      if (weight <= 0) continue;
      const score = (this.current.get(id) ?? 0) + weight;
      this.current.set(id, score);
      total += weight;
      if (score > bestScore) {
        best = id;
        bestScore = score;
      }
    }
    if (best !== undefined) this.current.set(best, bestScore - total);
    return best;
  }

  reset(): void {
    this.current.clear();
  }
}

/** Plain round-robin per key over a list that may change between picks. */
export class RoundRobin {
  private readonly next = new Map<string, number>();

  pick<T>(key: string, items: readonly T[]): T | undefined {
    if (items.length === 0) return undefined;
    const index = (this.next.get(key) ?? 0) % items.length;
    this.next.set(key, index + 1);
    return items[index];
  }
}
