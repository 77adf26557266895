/**
 * The AWS components, for use from any Pulumi program (`import ... from "ecs-canary/aws"`):
 * the whole topology, or its parts wired your own way.
 */
export {
  AWS_CANARY_TOPOLOGY_ALIASES,
  AwsCanaryTopology,
  type AwsCanaryTopologyArgs,
} from "./topology";
export {
  CANARY_NETWORK_ALIASES,
  CanaryNetwork,
  type CanaryNetworkArgs,
  type ExistingVpcArgs,
} from "./network";
export {
  HEALTH_CHECK,
  HTTPS_PORT,
  LISTENER_RULE_PRIORITY,
  TLS_POLICY,
  WeightedLoadBalancer,
  type WeightedLoadBalancerArgs,
} from "./loadBalancer";
export {
  clusterNameOf,
  CONTAINER_NAME,
  ExternalService,
  type ColorImageArgs,
  type ColorTaskSetArgs,
  type ExternalServiceArgs,
} from "./externalService";
export { awsStackOutputs, type AwsAsked, type AwsFacts } from "./outputs";
export { ConfigError, type Color } from "../contract/settings";
export type { ColorOutputs, MetricsSource, StackOutputs } from "../contract/outputs";
export type { ColorWeights } from "../contract/weights";
