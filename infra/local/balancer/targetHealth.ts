/**
 * Health of targets as an ALB tracks it: a target turns unhealthy after
 * `unhealthyThreshold` failed checks in a row and healthy again after
 * `healthyThreshold` passed ones. New targets start healthy, because the task
 * set that registers them has already seen them answer. Only health checks
 * change a target's health, as on an ALB: a request that fails does not.
 */
export interface HealthThresholds {
  healthyThreshold: number;
  unhealthyThreshold: number;
}

interface TargetState {
  healthy: boolean;
  streak: number;
}

export class TargetHealth {
  private readonly states = new Map<string, TargetState>();

  constructor(private readonly thresholds: HealthThresholds) {}

  /** Tracks exactly `targets`: new ones start healthy, known ones keep their state. */
  track(targets: Iterable<string>): void {
    const wanted = new Set(targets);
    for (const target of this.states.keys()) {
      if (!wanted.has(target)) this.states.delete(target);
    }
    for (const target of wanted) {
      if (!this.states.has(target)) this.states.set(target, { healthy: true, streak: 0 });
    }
  }

  report(target: string, passed: boolean): void {
    const state = this.states.get(target);
    if (!state) return;
    if (passed === state.healthy) {
      state.streak = 0;
      return;
    }
    state.streak += 1;
    const needed = passed ? this.thresholds.healthyThreshold : this.thresholds.unhealthyThreshold;
    if (state.streak >= needed) {
      state.healthy = passed;
      state.streak = 0;
    }
  }

  isHealthy(target: string): boolean {
    return this.states.get(target)?.healthy ?? false;
  }
}
