import { describeSharedBackend } from "./sharedBackendCases";

describeSharedBackend("S3", ["lease-takeover"]);
