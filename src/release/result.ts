import type { CanaryResult } from "../canary/run-canary.js";
import type { ErrorCode } from "../errors.js";
import type { StageName } from "./events.js";

export type ReleaseStatus = "promoted" | "awaiting-promotion" | "failed";

export interface StageRecord {
  stage: StageName;
  startedAt: number;
  durationMs: number;
  outcome: "done" | "reused" | "failed";
  detail?: string;
}

/** What a release ended as: the CLI's `--json`, the Action's outputs and the service's record. */
export interface ReleaseResult {
  releaseId: string;
  pipeline: string;
  commit: string;
  branch: string;
  status: ReleaseStatus;
  build: { id: string; logUrl?: string } | null;
  image: { uri: string; digest: string } | null;
  candidate: { arn: string; revision: number } | null;
  canary: (Pick<CanaryResult, "jobId" | "jobQueue" | "summary" | "result" | "fallbackUsed" | "failedChildren"> & { reason?: string }) | null;
  production: { arn: string; revision: number } | null;
  stages: StageRecord[];
  error?: { code: ErrorCode; message: string; retryable: boolean; hint?: string; awsErrorName?: string };
}
