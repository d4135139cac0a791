import type { ReleaseResult } from "../release/result.js";
import type { CommitState, ReleaseImage } from "../store/types.js";

/** What a commit status says, per moment of a release. GitHub shows at most 140 characters. */
export type StatusMoment =
  | { kind: "queued" }
  | { kind: "running"; attempt: number }
  | { kind: "superseded"; by: string }
  | { kind: "finished"; result: Pick<ReleaseResult, "status" | "canary" | "production" | "error"> & { image?: ReleaseImage | null }; jobDefinition: string }
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
      const canary = `${reusedText(result.image)}${canaryText(result.canary)}`;
      if (result.status === "promoted") {
        return { state: "success", description: `${canary}, promoted ${moment.jobDefinition}:${result.production?.revision ?? "?"}` };
      }
      if (result.status === "awaiting-promotion") return { state: "pending", description: `${canary}, awaiting promotion` };
      if (result.status === "cancelled") return { state: "error", description: `cancelled: ${result.error?.message ?? "see the release"}` };
      return { state: "failure", description: `failed: ${result.error?.message ?? "see the release"}` };
    }
  }
}

/** The commit that built a reused image, when known: 7 characters, like GitHub's short shas. */
function reusedText(image: ReleaseImage | null | undefined): string {
  if (image?.reusedFrom === undefined) return "";
  return image.reusedFromCommit === undefined ? "image reused (same content), " : `image reused from ${image.reusedFromCommit.slice(0, 7)}, `;
}

function canaryText(canary: ReleaseResult["canary"]): string {
  if (canary === null) return "canary not run";
  const counts = Object.values(canary.summary) as number[];
  const total = counts.reduce((a, b) => a + b, 0);
  const succeeded = canary.summary.SUCCEEDED ?? 0;
  return `canary ${succeeded}/${total} ${canary.result}`;
}
