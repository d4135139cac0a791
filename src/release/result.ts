import type { CanaryResult } from "../canary/run-canary.js";
import type { ErrorJson } from "../errors.js";
import type { StageName, StageOutcome } from "./events.js";
import type { Supersession } from "./stages/promotion-order.js";
import type { CanaryVerdict } from "./tags.js";

/**
 * "canary-running": a release with `wait: false` returned once its canary was submitted.
 * "superseded": its canary passed, but production goes only forward, to the branch's head.
 * "cancelled": `batchship cancel` stopped its build or canary.
 */
export type ReleaseStatus = "promoted" | "awaiting-promotion" | "canary-running" | "superseded" | "failed" | "cancelled";

export interface StageRecord {
  stage: StageName;
  startedAt: number;
  durationMs: number;
  outcome: StageOutcome;
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
  /**
   * `key`: the image's content key, when the release knew its sources. `reusedFrom`: no build
   * ran; the image recorded under this content key tag got the commit's tags.
   */
  image: { uri: string; digest: string; key?: string; reusedFrom?: string } | null;
  candidate: { arn: string; revision: number } | null;
  canary:
    | (Pick<CanaryResult, "jobId" | "jobQueue" | "summary" | "fallbackUsed" | "failedChildren"> & {
        result: CanaryVerdict | "running";
        reason?: string;
      })
    | null;
  production: { arn: string; revision: number } | null;
  stages: StageRecord[];
  /** GitOps: why a passing release awaits promotion although the pipeline promotes automatically. */
  hold?: { reason: string; by: string; at: string };
  /** Why a passing release was not promoted: the newer commit that wins instead. */
  supersededBy?: Supersession;
  error?: ErrorJson;
}

/** A release with nothing done yet; stages fill it in. */
export function startedResult(facts: Pick<ReleaseResult, "releaseId" | "pipeline" | "commit" | "branch">): ReleaseResult {
  return { ...facts, status: "failed", build: null, image: null, candidate: null, canary: null, production: null, stages: [] };
}
