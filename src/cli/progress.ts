import { formatCounts } from "../canary/counts.js";
import type { ReleaseEvent } from "../release/events.js";
import { formatDuration } from "./duration.js";

/** One human line per event worth a line; the engine's events carry everything needed. */
export function progressLine(event: ReleaseEvent): string | undefined {
  switch (event.type) {
    case "stage-started":
      return undefined;
    case "stage-finished": {
      const what = event.outcome === "reused" ? "already done" : event.outcome;
      const detail = event.detail ? `: ${event.detail}` : "";
      return `[${event.stage}] ${what} in ${formatDuration(event.durationMs)}${detail}`;
    }
    case "build-started":
      return `[build] ${event.reused ? "following running build" : "started build"} ${event.buildId}${event.logUrl ? ` (log: ${event.logUrl})` : ""}`;
    case "build-phase":
      return `[build] phase ${event.phase}`;
    case "image-resolved":
      return undefined;
    case "image-reused":
      return `[build] no build: same content as ${event.uri} (${event.tag}); the commit's tags were added to it`;
    case "candidate-registered":
      return undefined;
    case "canary-submitted":
      return `[canary] ${event.reused ? "found" : "submitted"} ${event.fallback ? "fallback " : ""}job ${event.jobId} on ${event.jobQueue}`;
    case "canary-progress":
      return `[canary] ${formatDuration(event.elapsedMs)} ${event.size > 1 ? `${event.size} children: ` : ""}${formatCounts(event.counts)}`;
    case "canary-stuck":
      return `[canary] ${event.runnable} stuck in RUNNABLE with nothing running${event.reasons.length ? `: ${event.reasons.join("; ")}` : ""}`;
    case "promoted":
      return undefined;
    case "ledger-commit":
      return `[git] ${event.subject}: ${event.commit.slice(0, 12)} on ${event.branch} (${event.repository})`;
    case "warning":
      return `warning: ${event.message}`;
  }
}
