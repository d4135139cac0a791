import { formatCounts } from "../canary/counts.js";
import { formatDuration } from "../cli/duration.js";
import type { ReleaseEvent, ReleaseObserver } from "../release/events.js";

/** The part of @actions/core the log needs; passed in so the mapping stays a plain function. */
export interface ActionLog {
  startGroup(name: string): void;
  endGroup(): void;
  info(message: string): void;
  warning(message: string): void;
}

/**
 * One collapsible log group per stage. The engine's stages run one after another, and the
 * runner cannot nest groups, so a group opens on stage-started and closes on stage-finished.
 */
export function logGroups(log: ActionLog): ReleaseObserver & { close(): void } {
  let open = false;
  const close = () => {
    if (open) log.endGroup();
    open = false;
  };
  const observe = (event: ReleaseEvent): void => {
    if (event.type === "stage-started") {
      close();
      log.startGroup(event.stage);
      open = true;
      return;
    }
    if (event.type === "warning") {
      log.warning(event.message);
      return;
    }
    const line = logLine(event);
    if (line !== undefined) log.info(quoteContinuation(line));
    if (event.type === "stage-finished") close();
  };
  return Object.assign(observe, { close });
}

function logLine(event: ReleaseEvent): string | undefined {
  switch (event.type) {
    case "stage-finished": {
      const what = event.outcome === "reused" ? "already done" : event.outcome;
      return `${event.stage} ${what} in ${formatDuration(event.durationMs)}${event.detail ? `: ${event.detail}` : ""}`;
    }
    case "build-started":
      return `${event.reused ? "following build" : "started build"} ${event.buildId}${event.logUrl ? ` (log: ${event.logUrl})` : ""}`;
    case "build-phase":
      return `phase ${event.phase}`;
    case "candidate-registered":
      return `${event.reused ? "reusing" : "registered"} candidate ${event.arn}`;
    case "canary-submitted":
      return `${event.reused ? "found" : "submitted"} ${event.fallback ? "fallback " : ""}canary job ${event.jobId} on ${event.jobQueue}`;
    case "canary-progress":
      return `${formatDuration(event.elapsedMs)}: ${event.size > 1 ? `${event.size} children: ` : ""}${formatCounts(event.counts)}`;
    case "canary-stuck":
      return `${event.runnable} stuck in RUNNABLE with nothing running${event.reasons.length ? `: ${event.reasons.join("; ")}` : ""}`;
    case "promoted":
      return `${event.reused ? "already promoted as" : "promoted as"} ${event.arn}`;
    // The build stage's own line names the image.
    case "image-resolved":
    case "stage-started":
    case "warning":
      return undefined;
  }
}

/**
 * A line of the log that starts with `::` is a workflow command to the runner. Engine messages
 * can carry text from outside (Batch reasons, spec problems over several lines), so every line
 * after the first is indented behind a marker that is not whitespace.
 */
export function quoteContinuation(text: string): string {
  return text.replace(/[\x00-\x09\x0b-\x1f\x7f]/g, " ").replace(/\n/g, "\n  | ");
}
