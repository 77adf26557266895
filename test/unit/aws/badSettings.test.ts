import { expect } from "chai";
import { IMAGE_ALLOWED, VERSION_ALLOWED } from "../../../infra/contract/settings";
import { runProgramExpectingError } from "./mockProgram";

const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/8a4b6a3e-2f1c-4d5e-9b7a-0c1d2e3f4a5b";

const cases: [Record<string, string>, string][] = [
  [{ canaryWeight: "-1" }, 'invalid setting canaryWeight="-1": must be an integer from 0 to 100'],
  [{ canaryWeight: "101" }, 'invalid setting canaryWeight="101": must be an integer from 0 to 100'],
  [
    { canaryWeight: "12.5" },
    'invalid setting canaryWeight="12.5": must be an integer from 0 to 100',
  ],
  [{ canaryWeight: "abc" }, 'invalid setting canaryWeight="abc": must be an integer from 0 to 100'],
  [{ stableColor: "red" }, 'invalid setting stableColor="red": must be "blue" or "green"'],
  [{ blueVersion: "" }, 'invalid setting blueVersion="": must not be empty'],
  [{ greenVersion: "  " }, 'invalid setting greenVersion="  ": must not be empty'],
  [
    { subnetIds: "subnet-a,subnet-b" },
    'invalid setting subnetIds="subnet-a,subnet-b": needs vpcId to be set as well',
  ],
  [
    { vpcId: "vpc-1" },
    'invalid setting vpcId="vpc-1": needs subnetIds (the existing VPC\'s subnets for tasks)',
  ],
  [{ desiredCount: "0" }, 'invalid setting desiredCount="0": must be an integer from 1 to 100'],
  [{ canaryScale: "150" }, 'invalid setting canaryScale="150": must be an integer from 0 to 100'],
  [
    { metricsIntervalSeconds: "0" },
    'invalid setting metricsIntervalSeconds="0": must be an integer from 1 to 3600',
  ],
  [{ platform: "gcp" }, 'invalid setting platform="gcp": must be "aws" or "local"'],
  [{ assignPublicIp: "yes" }, 'invalid setting assignPublicIp="yes": must be true or false'],
  [
    { vpcId: "vpc-1", subnetIds: "[]" },
    'invalid setting subnetIds="[]": must be a non-empty list of IDs (JSON array or a,b,c)',
  ],
  [{ greenErrorRate: "1.5" }, 'invalid setting greenErrorRate="1.5": must be a number from 0 to 1'],
  // An ALB needs two or more subnets in different AZs; the task subnets are the wrong place.
  [
    { vpcId: "vpc-1", subnetIds: "subnet-a,subnet-b" },
    'invalid setting albSubnetIds="": needs two or more public subnets, in different Availability Zones, when vpcId is set',
  ],
  [
    { vpcId: "vpc-1", subnetIds: "subnet-a,subnet-b", albSubnetIds: "subnet-pub-a" },
    'invalid setting albSubnetIds="subnet-pub-a": needs two or more public subnets, in different Availability Zones, when vpcId is set',
  ],
  [
    { albSubnetIds: "subnet-pub-a,subnet-pub-b" },
    'invalid setting albSubnetIds="subnet-pub-a,subnet-pub-b": needs vpcId to be set',
  ],
  // Versions and images are single tokens.
  [
    { greenVersion: "1.0.1\nINJECTED" },
    `invalid setting greenVersion="1.0.1\\nINJECTED": ${VERSION_ALLOWED}`,
  ],
  [{ blueVersion: "1.0 beta" }, `invalid setting blueVersion="1.0 beta": ${VERSION_ALLOWED}`],
  [{ image: "repo/app :1" }, `invalid setting image="repo/app :1": ${IMAGE_ALLOWED}`],
  [{ greenImage: "repo/app:1 x" }, `invalid setting greenImage="repo/app:1 x": ${IMAGE_ALLOWED}`],
  [
    { deregistrationDelaySeconds: "3601" },
    'invalid setting deregistrationDelaySeconds="3601": must be an integer from 0 to 3600',
  ],
  [
    { deregistrationDelaySeconds: "-1" },
    'invalid setting deregistrationDelaySeconds="-1": must be an integer from 0 to 3600',
  ],
  [
    { certificateArn: "arn:aws:acm:us-east-1:1234:certificate/abc" },
    'invalid setting certificateArn="arn:aws:acm:us-east-1:1234:certificate/abc": must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) or an IAM server certificate ARN',
  ],
  [
    { certificateArn: "my-cert" },
    'invalid setting certificateArn="my-cert": must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) or an IAM server certificate ARN',
  ],
  [
    { listenerPort: "443", certificateArn: CERT },
    'invalid setting listenerPort="443": must not be 443 when certificateArn is set (the HTTPS listener takes 443; listenerPort redirects to it)',
  ],
  // The ALB would answer 503 for the canary's share, in no target group's metrics.
  [
    { canaryWeight: "10", canaryScale: "0" },
    'invalid setting canaryWeight="10": must be 0 while canaryScale is 0 (the canary colour has no tasks); set canaryScale first',
  ],
];

describe("bad settings (Pulumi mocks)", () => {
  for (const [config, message] of cases) {
    it(`refuses ${JSON.stringify(config)} before registering any resource`, async () => {
      const { error, resources } = await runProgramExpectingError({
        blueVersion: "1.0.0",
        ...config,
      });
      expect(error.message).to.equal(message);
      expect(error.message, "one line").to.not.include("\n");
      expect(resources).to.deep.equal([]);
    });
  }
});
