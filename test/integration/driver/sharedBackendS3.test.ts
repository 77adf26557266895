import { describeSharedBackend } from "./sharedBackendCases";

describeSharedBackend("S3", ["paused-elsewhere", "abort-elsewhere"]);
