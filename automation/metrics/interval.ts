/**
 * What a metrics reader returns and the judge reads: per interval, what each colour's target
 * group served and the load balancer's own 5xx. Plain data, stored as JSON and read back alike.
 * An interval is as long as the stack's metrics source says (`metricsSource.intervalSeconds`:
 * one minute on CloudWatch, configurable on the local platform).
 */

/** What one target group served during one interval. */
export interface GroupSample {
  /** Requests the target group served in the interval (ALB `RequestCount`, Sum). */
  requests: number;
  /**
   * 5xx responses of the target group in the interval (`HTTPCode_Target_5XX_Count`, Sum).
   * CloudWatch publishes no datapoint when there were none: `undefined` with requests > 0
   * counts as zero errors.
   */
  errors?: number;
  /** 99th percentile of the response time in the interval, in milliseconds, if known. */
  p99Ms?: number;
  /**
   * Connections to the group's targets that failed in the interval (`TargetConnectionErrorCount`,
   * Sum): requests the balancer answered 502 itself. No datapoint when there were none.
   */
  connectionErrors?: number;
  /** Most unhealthy targets of the group in the interval (`UnHealthyHostCount`, Maximum). */
  unhealthyHosts?: number;
  /** Fewest healthy targets of the group in the interval (`HealthyHostCount`, Minimum). */
  healthyHosts?: number;
}

/** One interval of metrics for both colours. */
export interface Interval {
  /** Start of the interval, epoch milliseconds. Intervals must arrive in increasing order. */
  start: number;
  /**
   * Which rollout step this interval belongs to (any number the driver uses, e.g. the step's
   * index). A change of value starts a new step: the step's bake time, request count and
   * latency samples restart; the error-rate evidence carries over. Absent means 0.
   */
  step?: number;
  stable: GroupSample;
  canary: GroupSample;
  /**
   * 5xx the load balancer generated itself in the interval (`HTTPCode_ELB_5XX_Count`, Sum, whole
   * load balancer: CloudWatch has no target-group dimension for it): 502 for a failed target
   * connection, 503 for a group without registered targets, 504 for a target timeout.
   * Undefined when no datapoint was published (none generated).
   */
  balancerErrors?: number;
}
