import { relative } from "node:path";
import type { CancelResult } from "../release/cancel-release.js";
import type { DoctorCheck } from "../release/ports.js";
import type { SpecProblem } from "../spec/index.js";
import { code, table, text } from "./markdown.js";

/** The job summary of `cancel`, `doctor` and `validate`: what was stopped, checked or found. */
export function cancelSummary(r: CancelResult): string {
  const stopped = [
    ...(r.build ? [`build ${code(r.build.id)}`] : []),
    ...(r.canary?.stoppedJobs ?? []).map((jobId) => `canary job ${code(jobId)}`),
  ];
  return [
    `## batchship ${text(r.pipeline)}: ⏹️ release ${code(r.releaseId)} cancelled`,
    stopped.length > 0 ? `Stopped: ${stopped.join(", ")}.` : "No canary job was running; none will be started.",
    "To try it again, run this Action with `command: release` and `retry: true` for the same commit.",
  ].join("\n\n") + "\n";
}

export function doctorSummary(pipeline: string, checks: DoctorCheck[]): string {
  const failed = checks.some((c) => c.level === "fail");
  const rows = checks.map((c) => [c.level.toUpperCase(), text(c.subject), text(c.message), text(c.hint ?? "")]);
  return [`## batchship ${text(pipeline)}: ${failed ? "❌ doctor found problems" : "✅ doctor"}`, table(["", "Subject", "Finding", "Fix"], rows)].join("\n\n") + "\n";
}

export function validateSummary(files: string[], problems: SpecProblem[], workspace: string | undefined): string {
  const shown = (file: string) => (workspace ? relative(workspace, file) : file);
  const head = problems.length === 0 ? `✅ ${files.length} pipeline file(s) valid` : `❌ ${problems.length} problem(s)`;
  const rows = problems.map((p) => [code(`${shown(p.file)}:${p.line}:${p.col}`), code(p.path), text(p.message)]);
  return [`## batchship validate: ${head}`, ...(rows.length > 0 ? [table(["Where", "Setting", "Problem"], rows)] : [])].join("\n\n") + "\n";
}
