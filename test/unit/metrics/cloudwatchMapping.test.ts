import { MetricDataResult } from "@aws-sdk/client-cloudwatch";
import { expect } from "chai";
import {
  checkCloudWatchOutput,
  CloudWatchOutput,
  CloudWatchSourceError,
  describeAwsError,
  mapMetricData,
  metricDataQueries,
  windowIntervals,
} from "../../../automation/metrics/cloudwatch";
import { MetricsWindow } from "../../../automation/metrics/reader";

const MIN = 60_000;
/** 2030-01-01T10:00:00Z, a minute boundary. */
const T0 = Date.UTC(2030, 0, 1, 10, 0, 0);
const at = (minute: number) => new Date(T0 + minute * MIN);

const OUTPUT: CloudWatchOutput = {
  kind: "cloudwatch",
  intervalSeconds: 60,
  settleSeconds: 180,
  region: "eu-west-1",
  loadBalancerArnSuffix: "app/canary-alb/50dc6c495c0c9188",
  targetGroupArnSuffixes: {
    blue: "targetgroup/blue-tg/73e2d6bc24d8a067",
    green: "targetgroup/green-tg/943f017f100becff",
  },
};

function series(id: string, points: [minute: number, value: number][]): MetricDataResult {
  return {
    Id: id,
    Timestamps: points.map(([m]) => at(m)),
    Values: points.map(([, v]) => v),
    StatusCode: "Complete",
  };
}

/** Blue serves everything in minutes 0-4 and 5 (partial); green only in minutes 1, 2, 4, 5. */
const RESULTS: MetricDataResult[] = [
  series("requests_blue", [
    [0, 120],
    [1, 118],
    [2, 125],
    [3, 90],
    [4, 101],
    [5, 40],
  ]),
  series("errors_blue", [
    [0, 1],
    [3, 0],
    [5, 2],
  ]),
  series("p99_blue", [
    [0, 0.2345],
    [1, 0.0145],
    [2, 0.2],
    [3, 0.31],
    [4, 0.250001],
    [5, 0.9],
  ]),
  series("requests_green", [
    [1, 12],
    [2, 15],
    [4, 9],
    [5, 3],
  ]),
  series("errors_green", [
    [2, 4],
    [4, 9],
  ]),
  series("p99_green", [
    [1, 1.5],
    [2, 0.042],
    [4, 0.0031],
    [5, 2],
  ]),
  series("connectionErrors_green", [
    [2, 3],
    [4, 7],
  ]),
  series("unhealthyHosts_green", [
    [0, 0],
    [1, 0],
    [2, 1],
    [3, 2],
    [4, 2],
  ]),
  series("healthyHosts_green", [
    [0, 2],
    [1, 2],
    [2, 1],
    [3, 0],
    [4, 0],
  ]),
  series("unhealthyHosts_blue", [
    [0, 0],
    [4, 0],
  ]),
  series("healthyHosts_blue", [
    [0, 3],
    [4, 3],
  ]),
  series("balancerErrors", [
    [2, 2],
    [3, 11],
    [4, 9],
    [5, 1],
  ]),
];

/** Minutes 0-4 whole; minute 5 is still running at `to`. */
const WINDOW_BLUE_STABLE: MetricsWindow = {
  from: T0,
  to: T0 + 5 * MIN + 30_000,
  stableColor: "blue",
  canaryColor: "green",
};

const BLUE = [
  { requests: 120, errors: 1, p99Ms: 234.5, unhealthyHosts: 0, healthyHosts: 3 },
  { requests: 118, p99Ms: 14.5 },
  { requests: 125, p99Ms: 200 },
  { requests: 90, errors: 0, p99Ms: 310 },
  { requests: 101, p99Ms: 250.001, unhealthyHosts: 0, healthyHosts: 3 },
];
/** Green loses its hosts from minute 2; its connection errors outnumber its requests in minute 3. */
const GREEN = [
  { requests: 0, unhealthyHosts: 0, healthyHosts: 2 },
  { requests: 12, p99Ms: 1500, unhealthyHosts: 0, healthyHosts: 2 },
  { requests: 15, errors: 4, p99Ms: 42, connectionErrors: 3, unhealthyHosts: 1, healthyHosts: 1 },
  { requests: 0, unhealthyHosts: 2, healthyHosts: 0 },
  { requests: 9, errors: 9, p99Ms: 3.1, connectionErrors: 7, unhealthyHosts: 2, healthyHosts: 0 },
];
/** HTTPCode_ELB_5XX_Count of the whole balancer, per minute; none published in minutes 0-1. */
const BALANCER: (number | undefined)[] = [undefined, undefined, 2, 11, 9];
const withBalancer = <T extends object>(interval: T, m: number) =>
  BALANCER[m] === undefined ? interval : { ...interval, balancerErrors: BALANCER[m] };

function expectError(fn: () => unknown, message: string): void {
  expect(fn).to.throw(CloudWatchSourceError, message);
}

describe("CloudWatch metrics mapping", () => {
  describe("mapMetricData", () => {
    it("maps blue to stable and green to canary, one interval per whole minute", () => {
      expect(mapMetricData(RESULTS, WINDOW_BLUE_STABLE, MIN)).to.deep.equal(
        [0, 1, 2, 3, 4].map((m) =>
          withBalancer({ start: T0 + m * MIN, stable: BLUE[m], canary: GREEN[m] }, m),
        ),
      );
    });

    it("maps green to stable and blue to canary when green is stable", () => {
      const window: MetricsWindow = {
        ...WINDOW_BLUE_STABLE,
        stableColor: "green",
        canaryColor: "blue",
      };
      expect(mapMetricData(RESULTS, window, MIN)).to.deep.equal(
        [0, 1, 2, 3, 4].map((m) =>
          withBalancer({ start: T0 + m * MIN, stable: GREEN[m], canary: BLUE[m] }, m),
        ),
      );
    });

    it("takes the balancer's own 5xx once per minute, whichever colour is stable", () => {
      const swapped = { ...WINDOW_BLUE_STABLE, stableColor: "green", canaryColor: "blue" } as const;
      for (const window of [WINDOW_BLUE_STABLE, swapped]) {
        expect(mapMetricData(RESULTS, window, MIN).map((i) => i.balancerErrors)).to.deep.equal(
          BALANCER,
        );
      }
    });

    it("reads connection errors and host counts per colour, and accepts more connection errors than requests", () => {
      const minute3 = mapMetricData(RESULTS, WINDOW_BLUE_STABLE, MIN)[3];
      expect(minute3.canary).to.deep.equal({ requests: 0, unhealthyHosts: 2, healthyHosts: 0 });
      const only = [series("requests_green", [[1, 2]]), series("connectionErrors_green", [[1, 5]])];
      const [, minute1] = mapMetricData(only, { ...WINDOW_BLUE_STABLE, to: T0 + 2 * MIN }, MIN);
      expect(minute1).to.deep.equal({
        start: T0 + MIN,
        stable: { requests: 0 },
        canary: { requests: 2, connectionErrors: 5 },
      });
    });

    it("leaves errors undefined where requests > 0 and no 5xx datapoint exists", () => {
      const [interval] = mapMetricData(RESULTS, { ...WINDOW_BLUE_STABLE, to: T0 + MIN }, MIN);
      expect(interval.canary).to.deep.equal({ requests: 0, unhealthyHosts: 0, healthyHosts: 2 });
      expect(interval).to.not.have.property("balancerErrors");
      const minute1 = mapMetricData(RESULTS, { ...WINDOW_BLUE_STABLE, from: T0 + MIN }, MIN)[0];
      expect(minute1.stable).to.not.have.property("errors");
      expect(minute1.stable.requests).to.equal(118);
    });

    it("gives requests: 0 for minutes without a RequestCount datapoint, also with no data at all", () => {
      expect(mapMetricData([], { ...WINDOW_BLUE_STABLE, to: T0 + 2 * MIN }, MIN)).to.deep.equal([
        { start: T0, stable: { requests: 0 }, canary: { requests: 0 } },
        { start: T0 + MIN, stable: { requests: 0 }, canary: { requests: 0 } },
      ]);
    });

    it("drops the minute still running at `to` and data before a mid-minute `from`", () => {
      const intervals = mapMetricData(
        RESULTS,
        {
          ...WINDOW_BLUE_STABLE,
          from: T0 + 2 * MIN + 1,
          to: T0 + 6 * MIN - 1,
        },
        MIN,
      );
      expect(intervals.map((i) => i.start)).to.deep.equal([T0 + 3 * MIN, T0 + 4 * MIN]);
    });

    it("keeps minute 5 once it has ended", () => {
      const intervals = mapMetricData(RESULTS, { ...WINDOW_BLUE_STABLE, to: T0 + 6 * MIN }, MIN);
      expect(intervals).to.have.length(6);
      expect(intervals[5]).to.deep.equal({
        start: T0 + 5 * MIN,
        stable: { requests: 40, errors: 2, p99Ms: 900 },
        canary: { requests: 3, p99Ms: 2000 },
        balancerErrors: 1,
      });
    });

    it("joins the pages of a paginated answer", () => {
      const pages: MetricDataResult[] = [
        series("requests_blue", [
          [0, 10],
          [1, 11],
        ]),
        series("errors_green", [[1, 1]]),
        series("requests_blue", [[2, 12]]),
        series("requests_green", [[1, 5]]),
      ];
      const intervals = mapMetricData(pages, { ...WINDOW_BLUE_STABLE, to: T0 + 3 * MIN }, MIN);
      expect(intervals.map((i) => i.stable.requests)).to.deep.equal([10, 11, 12]);
      expect(intervals[1].canary).to.deep.equal({ requests: 5, errors: 1 });
    });

    it("returns nothing for a window without a whole minute", () => {
      expect(
        mapMetricData(RESULTS, { ...WINDOW_BLUE_STABLE, from: T0 + 10_000, to: T0 + 70_000 }, MIN),
      ).to.deep.equal([]);
    });

    it("refuses a minute that appears twice", () => {
      const twice = [series("requests_blue", [[1, 10]]), series("requests_blue", [[1, 10]])];
      expectError(
        () => mapMetricData(twice, WINDOW_BLUE_STABLE, MIN),
        "CloudWatch answered requests_blue twice for 2030-01-01T10:01:00.000Z",
      );
    });

    it("refuses a series CloudWatch did not complete, with its messages", () => {
      const partial: MetricDataResult = {
        ...series("p99_green", []),
        StatusCode: "Forbidden",
        Messages: [{ Code: "Forbidden", Value: "no access to AWS/ApplicationELB" }],
      };
      expectError(
        () => mapMetricData([partial], WINDOW_BLUE_STABLE, MIN),
        "CloudWatch answered p99_green with Forbidden: Forbidden no access to AWS/ApplicationELB",
      );
    });

    it("refuses more 5xx responses than requests in a minute", () => {
      const bad = [series("requests_green", [[2, 3]]), series("errors_green", [[2, 4]])];
      expectError(
        () => mapMetricData(bad, WINDOW_BLUE_STABLE, MIN),
        "CloudWatch reports 4 5xx responses but 3 requests for green at 2030-01-01T10:02:00.000Z",
      );
    });

    it("refuses malformed series", () => {
      expectError(
        () =>
          mapMetricData([{ Id: "requests_red", StatusCode: "Complete" }], WINDOW_BLUE_STABLE, MIN),
        'unknown query id "requests_red"',
      );
      expectError(
        () => mapMetricData([{ Id: "balancerErrors_blue" }], WINDOW_BLUE_STABLE, MIN),
        'unknown query id "balancerErrors_blue"',
      );
      expectError(
        () => mapMetricData([series("healthyHosts_green", [[0, -1]])], WINDOW_BLUE_STABLE, MIN),
        "CloudWatch answered healthyHosts_green at 2030-01-01T10:00:00.000Z with -1",
      );
      expectError(
        () =>
          mapMetricData(
            [{ Id: "requests_blue", Timestamps: [at(0)], Values: [] }],
            WINDOW_BLUE_STABLE,
            MIN,
          ),
        "CloudWatch answered requests_blue with 1 timestamps but 0 values",
      );
      expectError(
        () => mapMetricData([series("errors_blue", [[0, -1]])], WINDOW_BLUE_STABLE, MIN),
        "CloudWatch answered errors_blue at 2030-01-01T10:00:00.000Z with -1",
      );
      expectError(
        () =>
          mapMetricData(
            [{ Id: "requests_blue", Timestamps: [new Date(T0 + 30_000)], Values: [1] }],
            WINDOW_BLUE_STABLE,
            MIN,
          ),
        "CloudWatch answered requests_blue with a timestamp off the interval",
      );
    });
  });

  describe("windowIntervals", () => {
    it("rounds from up and to down to minute boundaries", () => {
      expect(
        windowIntervals({ ...WINDOW_BLUE_STABLE, from: T0 + 1, to: T0 + 3 * MIN - 1 }, MIN),
      ).to.deep.equal({ start: T0 + MIN, end: T0 + 2 * MIN });
      expect(
        windowIntervals({ ...WINDOW_BLUE_STABLE, from: T0, to: T0 + 3 * MIN }, MIN),
      ).to.deep.equal({
        start: T0,
        end: T0 + 3 * MIN,
      });
      expect(
        windowIntervals({ ...WINDOW_BLUE_STABLE, from: T0 + 1, to: T0 + 2 }, MIN),
      ).to.deep.equal({
        start: T0 + MIN,
        end: T0 + MIN,
      });
    });

    it("refuses bad windows in one line naming the key and value", () => {
      expectError(
        () => windowIntervals({ ...WINDOW_BLUE_STABLE, from: T0 + MIN, to: T0 }, MIN),
        `metrics window must have finite epoch-ms from <= to, got from=${T0 + MIN} to=${T0}`,
      );
      expectError(
        () => windowIntervals({ ...WINDOW_BLUE_STABLE, canaryColor: "blue" }, MIN),
        'metrics window stableColor and canaryColor must differ, both are "blue"',
      );
      expectError(
        () =>
          windowIntervals(
            {
              ...WINDOW_BLUE_STABLE,
              canaryColor: "red" as unknown as MetricsWindow["canaryColor"],
            },
            MIN,
          ),
        'metrics window canaryColor must be one of blue, green, got "red"',
      );
    });
  });

  describe("metricDataQueries", () => {
    it("asks per colour, with both dimensions, for requests, 5xx, p99, connection errors and host counts", () => {
      const queries = metricDataQueries(OUTPUT, WINDOW_BLUE_STABLE);
      expect(queries.map((q) => q.Id)).to.deep.equal([
        "requests_blue",
        "errors_blue",
        "p99_blue",
        "connectionErrors_blue",
        "unhealthyHosts_blue",
        "healthyHosts_blue",
        "requests_green",
        "errors_green",
        "p99_green",
        "connectionErrors_green",
        "unhealthyHosts_green",
        "healthyHosts_green",
        "balancerErrors",
      ]);
      expect(queries[7]).to.deep.equal({
        Id: "errors_green",
        Label: "HTTPCode_Target_5XX_Count Sum green",
        MetricStat: {
          Metric: {
            Namespace: "AWS/ApplicationELB",
            MetricName: "HTTPCode_Target_5XX_Count",
            Dimensions: [
              { Name: "TargetGroup", Value: "targetgroup/green-tg/943f017f100becff" },
              { Name: "LoadBalancer", Value: "app/canary-alb/50dc6c495c0c9188" },
            ],
          },
          Period: 60,
          Stat: "Sum",
        },
        ReturnData: true,
      });
      const perColour = [
        ["RequestCount", "Sum"],
        ["HTTPCode_Target_5XX_Count", "Sum"],
        ["TargetResponseTime", "p99"],
        ["TargetConnectionErrorCount", "Sum"],
        ["UnHealthyHostCount", "Maximum"],
        ["HealthyHostCount", "Minimum"],
      ];
      expect(
        queries.map((q) => [q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat]),
      ).to.deep.equal([...perColour, ...perColour, ["HTTPCode_ELB_5XX_Count", "Sum"]]);
      for (const q of queries.slice(0, 12)) {
        expect(q.MetricStat?.Metric?.Dimensions?.map((d) => d.Name)).to.deep.equal([
          "TargetGroup",
          "LoadBalancer",
        ]);
      }
    });

    it("asks for the balancer's own 5xx with the LoadBalancer dimension only", () => {
      const queries = metricDataQueries(OUTPUT, WINDOW_BLUE_STABLE);
      expect(queries[12]).to.deep.equal({
        Id: "balancerErrors",
        Label: "HTTPCode_ELB_5XX_Count Sum",
        MetricStat: {
          Metric: {
            Namespace: "AWS/ApplicationELB",
            MetricName: "HTTPCode_ELB_5XX_Count",
            Dimensions: [{ Name: "LoadBalancer", Value: "app/canary-alb/50dc6c495c0c9188" }],
          },
          Period: 60,
          Stat: "Sum",
        },
        ReturnData: true,
      });
    });
  });

  describe("the interval of the stack output", () => {
    const FIVE = 5 * MIN;

    it("asks CloudWatch for datapoints of that period, a minute for stacks deployed before it", () => {
      const periods = (output: unknown) =>
        new Set(
          metricDataQueries(output as CloudWatchOutput, WINDOW_BLUE_STABLE).map(
            (q) => q.MetricStat?.Period,
          ),
        );
      expect(periods({ ...OUTPUT, intervalSeconds: 300 })).to.deep.equal(new Set([300]));
      const old: Record<string, unknown> = { ...OUTPUT };
      delete old.intervalSeconds;
      expect(periods(old)).to.deep.equal(new Set([60]));
    });

    it("maps datapoints to intervals of that length", () => {
      const data = [series("requests_blue", [[0, 40]]), series("requests_blue", [[5, 50]])];
      const intervals = mapMetricData(data, { ...WINDOW_BLUE_STABLE, to: T0 + 2 * FIVE }, FIVE);
      expect(intervals.map((i) => [i.start, i.stable.requests])).to.deep.equal([
        [T0, 40],
        [T0 + FIVE, 50],
      ]);
      expectError(
        () => mapMetricData([series("requests_blue", [[1, 10]])], WINDOW_BLUE_STABLE, FIVE),
        "CloudWatch answered requests_blue with a timestamp off the interval",
      );
    });

    it("refuses a period CloudWatch cannot give for ALB metrics", () => {
      expectError(
        () => checkCloudWatchOutput({ ...OUTPUT, intervalSeconds: 90 }),
        "metricsSource.intervalSeconds must be a whole multiple of 60 " +
          "(CloudWatch's period for ALB metrics), got 90",
      );
      expect(() => checkCloudWatchOutput({ ...OUTPUT, intervalSeconds: 0 })).to.throw(
        "the stack output metricsSource.intervalSeconds must be a number > 0, got 0",
      );
    });
  });

  describe("checkCloudWatchOutput", () => {
    it("accepts the ALB and target group arn suffixes", () => {
      expect(checkCloudWatchOutput(OUTPUT)).to.equal(OUTPUT);
    });

    it("refuses malformed suffixes and regions in one line naming the key and value", () => {
      expectError(
        () => checkCloudWatchOutput({ ...OUTPUT, loadBalancerArnSuffix: "canary-alb" }),
        'metricsSource.loadBalancerArnSuffix must look like "app/<name>/<id>", got "canary-alb"',
      );
      expectError(
        () =>
          checkCloudWatchOutput({
            ...OUTPUT,
            targetGroupArnSuffixes: { ...OUTPUT.targetGroupArnSuffixes, green: "" },
          }),
        'metricsSource.targetGroupArnSuffixes.green must look like "targetgroup/<name>/<id>", got ""',
      );
      expectError(
        () => checkCloudWatchOutput({ ...OUTPUT, region: "" }),
        'metricsSource.region must be an AWS region such as "us-east-1", got ""',
      );
    });
  });

  describe("describeAwsError", () => {
    it("names the call, the AWS error, the HTTP status and the attempts", () => {
      const throttled = Object.assign(new Error("Rate exceeded"), {
        name: "ThrottlingException",
        $metadata: { httpStatusCode: 400, attempts: 3 },
      });
      expect(describeAwsError("CloudWatch GetMetricData", throttled)).to.equal(
        "CloudWatch GetMetricData failed: ThrottlingException: Rate exceeded " +
          "(HTTP 400, after 3 attempts)",
      );
    });

    it("keeps the first line of a multi-line message", () => {
      const err = Object.assign(new Error("Rate exceeded\n  more detail"), {
        name: "ThrottlingException",
        $metadata: { httpStatusCode: 400, attempts: 1 },
      });
      expect(describeAwsError("X", err)).to.equal(
        "X failed: ThrottlingException: Rate exceeded (HTTP 400)",
      );
    });

    it("says when the answer was not AWS's, with its content type", () => {
      const err = Object.assign(new SyntaxError("Unexpected token '<'\n  Deserialization error"), {
        $metadata: { attempts: 1 },
        $response: { statusCode: 502, headers: { "content-type": "text/html" } },
      });
      expect(describeAwsError("X", err)).to.equal(
        "X failed: unreadable answer (text/html): Unexpected token '<' (HTTP 502)",
      );
    });

    it("points at the credentials for authentication and permission errors", () => {
      const denied = Object.assign(new Error("User: arn:aws:iam::1:user/ci is not authorized"), {
        name: "AccessDeniedException",
        $metadata: { httpStatusCode: 400, attempts: 1 },
      });
      expect(describeAwsError("X", denied)).to.equal(
        "X failed: AccessDeniedException: User: arn:aws:iam::1:user/ci is not authorized " +
          "(HTTP 400); check the AWS credentials and their IAM permissions",
      );
    });

    it("says when no credentials were found", () => {
      const err = Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      });
      expect(describeAwsError("X", err)).to.equal(
        "X failed: no AWS credentials (CredentialsProviderError: " +
          "Could not load credentials from any providers)",
      );
    });

    it("adds a network error's code", () => {
      const err = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      expect(describeAwsError("X", err)).to.equal("X failed: socket hang up (ECONNRESET)");
    });
  });
});
