import { expect } from "chai";
import { runProgramExpectingError } from "./mockProgram";

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
];

describe("bad settings (Pulumi mocks)", () => {
  for (const [config, message] of cases) {
    it(`refuses ${JSON.stringify(config)} before registering any resource`, async () => {
      const { error, resources } = await runProgramExpectingError({
        blueVersion: "1.0.0",
        ...config,
      });
      expect(error.message).to.equal(message);
      expect(resources).to.deep.equal([]);
    });
  }
});
