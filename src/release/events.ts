import type { JobState, StatusCounts } from "./ports.js";

export type StageName = "build" | "image" | "candidate" | "canary" | "promote" | "rollback";

/** `interrupted`: the caller stopped the release during the stage (see `ReleaseInterrupted`); a later run resumes it. */
export type StageOutcome = "done" | "reused" | "failed" | "interrupted";

/**
 * What the engine tells its caller while it works. The CLI prints these, the Action turns them
 * into log groups and early outputs, the service persists and logs them. The engine itself
 * never prints.
 */
export type ReleaseEvent =
  | { type: "stage-started"; stage: StageName }
  | { type: "stage-finished"; stage: StageName; durationMs: number; outcome: StageOutcome; detail?: string }
  | { type: "build-started"; buildId: string; logUrl?: string; reused: boolean }
  | { type: "build-phase"; buildId: string; phase: string }
  | { type: "image-resolved"; uri: string; digest: string }
  /** No build: the image with the same content key (found under `tag`) got the commit's tags. */
  | { type: "image-reused"; uri: string; digest: string; key: string; tag: string }
  | { type: "candidate-registered"; arn: string; revision: number; reused: boolean }
  | { type: "canary-submitted"; jobId: string; jobQueue: string; fallback: boolean; reused: boolean }
  | { type: "canary-progress"; jobId: string; size: number; counts: StatusCounts; elapsedMs: number }
  | { type: "canary-stuck"; jobId: string; runnable: number; reasons: string[] }
  | { type: "promoted"; arn: string; revision: number; reused: boolean }
  /** A passing release production does not take: `by` is the newer commit that wins (null: the branch is gone). */
  | { type: "superseded"; by: string | null; reason: string }
  | { type: "ledger-commit"; commit: string; subject: string; repository: string; branch: string; path: string }
  | { type: "warning"; message: string };

export type ReleaseObserver = (event: ReleaseEvent) => void;

export type FailedChild = Pick<JobState, "jobId" | "status" | "statusReason" | "exitCode" | "logStreamName" | "logGroupName">;
