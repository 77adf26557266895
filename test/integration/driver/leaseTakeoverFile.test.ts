import { describeSharedBackend } from "./sharedBackendCases";

describeSharedBackend("file", ["lease-takeover"]);
