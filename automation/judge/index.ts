/** The canary judge: pure functions over per-interval metrics, no I/O. */
export * from "./types";
export * from "./errorRate";
export * from "./latency";
export * from "./thresholds";
export * from "./judge";
export * from "./balancerSignals";
