/**
 * Metrics source over CloudWatch's `AWS/ApplicationELB` metrics: per target group, one interval
 * every `intervalSeconds` of the stack output (a minute). The mapping from GetMetricData results
 * to intervals is pure (`mapMetricData`); `CloudWatchMetricsReader` only sends the request and
 * pages through it.
 */
import {
  CloudWatchClient,
  CloudWatchClientConfig,
  GetMetricDataCommand,
  MetricDataQuery,
  MetricDataResult,
} from "@aws-sdk/client-cloudwatch";
import { Color, COLORS } from "../../infra/contract/settings";
import { GroupSample, Interval } from "./interval";
import {
  DEFAULT_INTERVAL_SECONDS,
  intervalMsOf,
  MetricsOutput,
  MetricsReader,
  MetricsSourceKind,
  MetricsWindow,
  settleMsOf,
} from "./reader";

/** The stack output that points at CloudWatch. */
export type CloudWatchOutput = MetricsOutput<"cloudwatch">;

/** Client settings besides the region (which comes from the stack output). */
export type CloudWatchClientOptions = Omit<CloudWatchClientConfig, "region">;

export const NAMESPACE = "AWS/ApplicationELB";

/**
 * CloudWatch's ALB metrics have regular resolution, one minute (the default interval): a
 * GetMetricData period "can be as short as one minute (60 seconds) and must be a multiple of 60"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html).
 */
const RESOLUTION_SECONDS = DEFAULT_INTERVAL_SECONDS;

/**
 * Seconds after an interval's end before its datapoints count as settled, for stacks deployed
 * before `settleSeconds` was an output: CloudWatch's ALB data arrive late.
 */
const DEFAULT_SETTLE_SECONDS = 180;

/**
 * The metrics read for each colour (dimensions TargetGroup and LoadBalancer), keyed by the prefix
 * of their query ids. Names, statistics and dimensions as AWS documents them in "CloudWatch
 * metrics for your Application Load Balancer"
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html):
 * - TargetConnectionErrorCount: connections between the load balancer and a target that were not
 *   established; reported when nonzero, most useful statistic Sum.
 * - UnHealthyHostCount, HealthyHostCount: targets considered unhealthy / healthy, reported when
 *   health checks are enabled; most useful statistics Average, Minimum, Maximum. The worst of an
 *   interval is what matters: the most unhealthy (Maximum) and the fewest healthy (Minimum).
 */
export const METRICS = {
  requests: { metricName: "RequestCount", stat: "Sum" },
  errors: { metricName: "HTTPCode_Target_5XX_Count", stat: "Sum" },
  p99: { metricName: "TargetResponseTime", stat: "p99" },
  connectionErrors: { metricName: "TargetConnectionErrorCount", stat: "Sum" },
  unhealthyHosts: { metricName: "UnHealthyHostCount", stat: "Maximum" },
  healthyHosts: { metricName: "HealthyHostCount", stat: "Minimum" },
} as const;
export type MetricKey = keyof typeof METRICS;
const METRIC_KEYS = Object.keys(METRICS) as MetricKey[];

/**
 * The metric read for the whole load balancer: 5xx it generated itself (502 for a failed target
 * connection, 503 for a target group without registered targets, 504 for a target timeout).
 * Its only dimensions are LoadBalancer and AvailabilityZone+LoadBalancer (same AWS page): no
 * target group, so it cannot be split by colour. Reported when nonzero; statistic Sum.
 */
export const BALANCER_METRIC = {
  id: "balancerErrors",
  metricName: "HTTPCode_ELB_5XX_Count",
  stat: "Sum",
} as const;

const QUERY_ID = new RegExp(
  `^((${METRIC_KEYS.join("|")})_(${COLORS.join("|")})|${BALANCER_METRIC.id})$`,
);

/** A bad input, an unexpected answer or a failed call; the message is one line. */
export class CloudWatchSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CloudWatchSourceError";
  }
}

const LOAD_BALANCER_SUFFIX = /^app\/[^/\s]+\/[^/\s]+$/;
const TARGET_GROUP_SUFFIX = /^targetgroup\/[^/\s]+\/[^/\s]+$/;

/** Checks the stack output; returns it. */
export function checkCloudWatchOutput(output: CloudWatchOutput): CloudWatchOutput {
  const where = "metricsSource";
  if (output.kind !== "cloudwatch") {
    throw new CloudWatchSourceError(`${where}.kind must be "cloudwatch", got "${output.kind}"`);
  }
  if (typeof output.region !== "string" || !/^[a-z0-9-]+$/.test(output.region)) {
    throw new CloudWatchSourceError(
      `${where}.region must be an AWS region such as "us-east-1", got "${output.region}"`,
    );
  }
  if (!LOAD_BALANCER_SUFFIX.test(output.loadBalancerArnSuffix ?? "")) {
    throw new CloudWatchSourceError(
      `${where}.loadBalancerArnSuffix must look like "app/<name>/<id>", ` +
        `got "${output.loadBalancerArnSuffix}"`,
    );
  }
  const intervalMs = intervalMsOf(output);
  if (intervalMs % (RESOLUTION_SECONDS * 1000) !== 0) {
    throw new CloudWatchSourceError(
      `${where}.intervalSeconds must be a whole multiple of ${RESOLUTION_SECONDS} ` +
        `(CloudWatch's period for ALB metrics), got ${intervalMs / 1000}`,
    );
  }
  for (const colour of COLORS) {
    const suffix = output.targetGroupArnSuffixes?.[colour];
    if (!TARGET_GROUP_SUFFIX.test(suffix ?? "")) {
      throw new CloudWatchSourceError(
        `${where}.targetGroupArnSuffixes.${colour} must look like "targetgroup/<name>/<id>", ` +
          `got "${suffix}"`,
      );
    }
  }
  return output;
}

/**
 * The whole intervals of a window: from the first interval boundary at or after `from`
 * (inclusive) to the last boundary at or before `to` (exclusive), so that an interval still
 * running at `to`, whose CloudWatch data is partial, is left out.
 */
export function windowIntervals(
  window: MetricsWindow,
  intervalMs: number,
): { start: number; end: number } {
  const { from, to, stableColor, canaryColor } = window;
  if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) {
    throw new CloudWatchSourceError(
      `metrics window must have finite epoch-ms from <= to, got from=${from} to=${to}`,
    );
  }
  for (const [key, colour] of [
    ["stableColor", stableColor],
    ["canaryColor", canaryColor],
  ] as const) {
    if (!COLORS.includes(colour)) {
      throw new CloudWatchSourceError(
        `metrics window ${key} must be one of ${COLORS.join(", ")}, got "${colour}"`,
      );
    }
  }
  if (stableColor === canaryColor) {
    throw new CloudWatchSourceError(
      `metrics window stableColor and canaryColor must differ, both are "${stableColor}"`,
    );
  }
  const start = Math.ceil(from / intervalMs) * intervalMs;
  const end = Math.max(start, Math.floor(to / intervalMs) * intervalMs);
  return { start, end };
}

function queryId(key: MetricKey, colour: Color): string {
  return `${key}_${colour}`;
}

/** The GetMetricData queries: every metric of both colours of the window, and the balancer's. */
export function metricDataQueries(
  output: CloudWatchOutput,
  window: MetricsWindow,
): MetricDataQuery[] {
  const period = intervalMsOf(output) / 1000;
  const queries: MetricDataQuery[] = [];
  for (const colour of [window.stableColor, window.canaryColor]) {
    for (const key of METRIC_KEYS) {
      const { metricName, stat } = METRICS[key];
      queries.push({
        Id: queryId(key, colour),
        Label: `${metricName} ${stat} ${colour}`,
        MetricStat: {
          Metric: {
            Namespace: NAMESPACE,
            MetricName: metricName,
            Dimensions: [
              { Name: "TargetGroup", Value: output.targetGroupArnSuffixes[colour] },
              { Name: "LoadBalancer", Value: output.loadBalancerArnSuffix },
            ],
          },
          Period: period,
          Stat: stat,
        },
        ReturnData: true,
      });
    }
  }
  const { id, metricName, stat } = BALANCER_METRIC;
  queries.push({
    Id: id,
    Label: `${metricName} ${stat}`,
    MetricStat: {
      Metric: {
        Namespace: NAMESPACE,
        MetricName: metricName,
        // CloudWatch matches the exact set of dimensions: LoadBalancer alone is the whole
        // balancer, not the per-zone series (AvailabilityZone, LoadBalancer).
        Dimensions: [{ Name: "LoadBalancer", Value: output.loadBalancerArnSuffix }],
      },
      Period: period,
      Stat: stat,
    },
    ReturnData: true,
  });
  return queries;
}

type Series = Map<number, number>;

function toEpochMs(t: Date | string | number): number {
  return t instanceof Date ? t.getTime() : new Date(t).getTime();
}

/**
 * Datapoints per query id, the pages of a paginated answer joined. Checks that every series is
 * complete and that no interval appears twice (it would be counted twice).
 */
function collectSeries(
  results: readonly MetricDataResult[],
  intervalMs: number,
): Map<string, Series> {
  const series = new Map<string, Series>();
  const lastStatus = new Map<string, MetricDataResult>();
  for (const result of results) {
    const id = result.Id ?? "";
    if (!QUERY_ID.test(id)) {
      throw new CloudWatchSourceError(`CloudWatch answered for an unknown query id "${id}"`);
    }
    const timestamps = result.Timestamps ?? [];
    const values = result.Values ?? [];
    if (timestamps.length !== values.length) {
      throw new CloudWatchSourceError(
        `CloudWatch answered ${id} with ${timestamps.length} timestamps but ${values.length} values`,
      );
    }
    const points = series.get(id) ?? new Map<number, number>();
    series.set(id, points);
    lastStatus.set(id, result);
    timestamps.forEach((t, i) => {
      const at = toEpochMs(t);
      const value = values[i];
      if (!Number.isFinite(at) || at % intervalMs !== 0) {
        throw new CloudWatchSourceError(
          `CloudWatch answered ${id} with a timestamp off the interval: ${String(t)}`,
        );
      }
      if (points.has(at)) {
        throw new CloudWatchSourceError(
          `CloudWatch answered ${id} twice for ${new Date(at).toISOString()}`,
        );
      }
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new CloudWatchSourceError(
          `CloudWatch answered ${id} at ${new Date(at).toISOString()} with ${value}, ` +
            `expected a finite number >= 0`,
        );
      }
      points.set(at, value);
    });
  }
  for (const [id, result] of lastStatus) {
    if (result.StatusCode !== undefined && result.StatusCode !== "Complete") {
      const messages = (result.Messages ?? [])
        .map((m) => `${m.Code ?? ""} ${m.Value ?? ""}`.trim())
        .filter((m) => m !== "");
      const why = messages.length > 0 ? `: ${messages.join("; ")}` : "";
      throw new CloudWatchSourceError(`CloudWatch answered ${id} with ${result.StatusCode}${why}`);
    }
  }
  return series;
}

/** Rounds to whole microseconds, which hides the binary noise of the seconds-to-ms product. */
function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}

/**
 * Maps GetMetricData results (of the queries of `metricDataQueries`, pages in any order) to one
 * interval per whole interval of the window. An interval without a RequestCount datapoint has
 * `requests: 0`; p99 is in milliseconds. A metric without a datapoint in an interval is left
 * undefined (CloudWatch publishes the counts only when nonzero): the 5xx and connection error
 * counts of a group, its host counts, and the balancer's own 5xx (`balancerErrors`).
 */
export function mapMetricData(
  results: readonly MetricDataResult[],
  window: MetricsWindow,
  intervalMs: number,
): Interval[] {
  const { start, end } = windowIntervals(window, intervalMs);
  const series = collectSeries(results, intervalMs);
  const value = (key: MetricKey, colour: Color, at: number) =>
    series.get(queryId(key, colour))?.get(at);

  const sample = (colour: Color, at: number): GroupSample => {
    const requests = value("requests", colour, at) ?? 0;
    const errors = value("errors", colour, at);
    const p99 = value("p99", colour, at);
    if (errors !== undefined && errors > requests) {
      throw new CloudWatchSourceError(
        `CloudWatch reports ${errors} 5xx responses but ${requests} requests for ${colour} ` +
          `at ${new Date(at).toISOString()}`,
      );
    }
    const s: GroupSample = { requests };
    if (errors !== undefined) s.errors = errors;
    if (p99 !== undefined) s.p99Ms = secondsToMs(p99);
    // No bound by requests: a connection that failed may never count as a request.
    for (const key of ["connectionErrors", "unhealthyHosts", "healthyHosts"] as const) {
      const count = value(key, colour, at);
      if (count !== undefined) s[key] = count;
    }
    return s;
  };

  const balancer = series.get(BALANCER_METRIC.id);
  const intervals: Interval[] = [];
  for (let at = start; at < end; at += intervalMs) {
    const interval: Interval = {
      start: at,
      stable: sample(window.stableColor, at),
      canary: sample(window.canaryColor, at),
    };
    const balancerErrors = balancer?.get(at);
    if (balancerErrors !== undefined) interval.balancerErrors = balancerErrors;
    intervals.push(interval);
  }
  return intervals;
}

interface AwsErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $response?: { statusCode?: number; headers?: Record<string, string | undefined> };
}

/** Error names of AWS for bad, expired or insufficient credentials. */
const AUTH_ERRORS = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "UnrecognizedClientException",
]);

/**
 * One line for a failed AWS call: what failed, the error's name and first line, the HTTP status
 * and attempts, and for credential problems what to check.
 */
export function describeAwsError(what: string, err: unknown): string {
  const e: AwsErrorLike = typeof err === "object" && err !== null ? err : { message: String(err) };
  const name = typeof e.name === "string" && e.name !== "Error" ? e.name : undefined;
  const firstLine = String(e.message ?? "")
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
  let text = [name, firstLine].filter((p) => p !== undefined).join(": ") || "unknown error";
  if (name === "CredentialsProviderError") {
    text = `no AWS credentials (${text})`;
  } else if (name === "SyntaxError" && e.$response) {
    // The SDK could not parse the answer: a proxy's or emulator's page instead of AWS JSON.
    const type = e.$response.headers?.["content-type"] ?? "no content-type";
    text = `unreadable answer (${type}): ${firstLine ?? ""}`;
  }
  const extra: string[] = [];
  if (typeof e.code === "string" && !text.includes(e.code)) extra.push(e.code);
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  if (status !== undefined) extra.push(`HTTP ${status}`);
  const attempts = e.$metadata?.attempts;
  if (attempts !== undefined && attempts > 1) extra.push(`after ${attempts} attempts`);
  const hint =
    status === 401 || status === 403 || (name !== undefined && AUTH_ERRORS.has(name))
      ? "; check the AWS credentials and their IAM permissions"
      : "";
  return `${what} failed: ${text}${extra.length > 0 ? ` (${extra.join(", ")})` : ""}${hint}`;
}

/** Live ALB metrics of both colours from CloudWatch, one interval a period of the stack output. */
export class CloudWatchMetricsReader implements MetricsReader {
  readonly description: string;
  readonly intervalMs: number;
  readonly settleMs: number;
  private readonly client: CloudWatchClient;
  private readonly output: CloudWatchOutput;
  private readonly call: string;

  constructor(output: CloudWatchOutput, clientOptions: CloudWatchClientOptions = {}) {
    this.output = checkCloudWatchOutput(output);
    this.intervalMs = intervalMsOf(output);
    this.settleMs = settleMsOf(output, DEFAULT_SETTLE_SECONDS);
    this.client = new CloudWatchClient({ ...clientOptions, region: output.region });
    const endpoint =
      typeof clientOptions.endpoint === "string" ? ` via ${clientOptions.endpoint}` : "";
    this.description =
      `CloudWatch ${NAMESPACE} metrics of ${output.loadBalancerArnSuffix} ` +
      `in ${output.region}${endpoint}`;
    this.call = `CloudWatch GetMetricData (${output.region}${endpoint})`;
  }

  async intervals(window: MetricsWindow): Promise<Interval[]> {
    const { start, end } = windowIntervals(window, this.intervalMs);
    if (end === start) return [];
    const queries = metricDataQueries(this.output, window);
    const results: MetricDataResult[] = [];
    const seen = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await this.client
        .send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: new Date(start),
            EndTime: new Date(end),
            ScanBy: "TimestampAscending",
            NextToken: nextToken,
          }),
        )
        .catch((err: unknown) => {
          throw new CloudWatchSourceError(describeAwsError(this.call, err));
        });
      results.push(...(page.MetricDataResults ?? []));
      nextToken = page.NextToken;
      if (nextToken !== undefined && seen.has(nextToken)) {
        throw new CloudWatchSourceError(`${this.call} returned NextToken "${nextToken}" twice`);
      }
      if (nextToken !== undefined) seen.add(nextToken);
    } while (nextToken);
    return mapMetricData(results, window, this.intervalMs);
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.client.destroy();
  }
}

/** Metrics of stacks on AWS: the `cloudwatch` output. */
export const cloudwatchSource: MetricsSourceKind<"cloudwatch"> = {
  kind: "cloudwatch",
  open: (output) => new CloudWatchMetricsReader(output),
};
