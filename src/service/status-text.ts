import type { ReleaseResult } from "../release/result.js";
import type { CommitState } from "../store/types.js";

/** What a commit status says, per moment of a release. GitHub shows at most 140 characters. */
export type StatusMoment =
  | { kind: "queued" }
  | { kind: "running"; attempt: number }
  | { kind: "superseded"; by: string }
  | { kind: "finished"; result: Pick<ReleaseResult, "status" | "canary" | "production" | "error"> & { image?: ReleaseResult["image"] }; jobDefinition: string }
  | { kind: "promoted"; jobDefinition: string; revision: number }
  | { kind: "internal-error" };

export function commitStatusFor(moment: StatusMoment): { state: CommitState; description: string } {
  switch (moment.kind) {
    case "queued":
      return { state: "pending", description: "queued" };
    case "running":
      return { state: "pending", description: moment.attempt > 1 ? "releasing (resumed)" : "releasing: build, candidate, canary" };
    case "superseded":
      return { state: "error", description: `superseded by ${moment.by}; not released` };
    case "promoted":
      return { state: "success", description: `promoted ${moment.jobDefinition}:${moment.revision}` };
    case "internal-error":
      return { state: "error", description: "batchship failed internally; see the service log" };
    case "finished": {
      const { result } = moment;
      // A commit that built nothing says so: its image is an earlier commit's, tags added.
      const canary = `${result.image?.reusedFrom === undefined ? "" : "image reused (same content), "}${canaryText(result.canary)}`;
      if (result.status === "promoted") {
        return { state: "success", description: `${canary}, promoted ${moment.jobDefinition}:${result.production?.revision ?? "?"}` };
      }
      if (result.status === "awaiting-promotion") return { state: "pending", description: `${canary}, awaiting promotion` };
      if (result.status === "cancelled") return { state: "error", description: `cancelled: ${result.error?.message ?? "see the release"}` };
      return { state: "failure", description: `failed: ${result.error?.message ?? "see the release"}` };
    }
  }
}

function canaryText(canary: ReleaseResult["canary"]): string {
  if (canary === null) return "canary not run";
  const counts = Object.values(canary.summary) as number[];
  const total = counts.reduce((a, b) => a + b, 0);
  const succeeded = canary.summary.SUCCEEDED ?? 0;
  return `canary ${succeeded}/${total} ${canary.result}`;
}
