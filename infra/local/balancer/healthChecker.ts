import { healthCheck } from "../shared/httpJson";
import { Router } from "./router";

/**
 * Active health checks as an ALB target group's: every `intervalMs`, `GET /`
 * on each target of the rule; a pass is a 200 within `timeoutMs`.
 */
export interface HealthCheckOptions {
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export const DEFAULT_HEALTH_CHECK: HealthCheckOptions = {
  intervalMs: 1000,
  timeoutMs: 1000,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
};

/**
 * Starts checking; the returned function stops it. `onRound` runs at the start of every round,
 * with the health the previous rounds established.
 */
export function startHealthChecks(
  router: Router,
  options: HealthCheckOptions,
  onRound: () => void = () => {},
): () => void {
  const checking = new Set<string>();
  function check(target: string): void {
    if (checking.has(target)) return;
    checking.add(target);
    void healthCheck(target, options.timeoutMs).then((status) => {
      if (checking.delete(target)) router.health.report(target, status === 200);
    });
  }
  const timer = setInterval(() => {
    onRound();
    router.targets().forEach(check);
  }, options.intervalMs);
  return () => clearInterval(timer);
}
