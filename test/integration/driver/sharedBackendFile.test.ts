import { describeSharedBackend } from "./sharedBackendCases";

describeSharedBackend("file", ["paused-elsewhere", "abort-elsewhere"]);
