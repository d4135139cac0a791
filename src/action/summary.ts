import { formatDuration } from "../cli/duration.js";
import type { BackendLinks } from "../release/ports.js";
import type { PromoteResult } from "../release/promote-release.js";
import type { ReleaseResult, StageRecord } from "../release/result.js";
import type { RollbackResult } from "../release/rollback.js";
import type { PipelineStatus } from "../release/status.js";
import { JOB_STATUSES } from "../release/ports.js";
import { code, link, table, text } from "./markdown.js";

/** What the summary shows beside the engine's result: links, and facts from the workflow run. */
export interface SummaryContext {
  links: BackendLinks | undefined;
  /** The commit on GitHub, when the run names its repository. */
  commitUrl?: string;
  /** The head commit's message from the push event (untrusted). */
  commitMessage?: string;
}

const HEADLINE: Record<ReleaseResult["status"], string> = {
  promoted: "✅ released",
  "awaiting-promotion": "⏸️ canary passed, awaiting promotion",
  "canary-running": "⏳ canary submitted",
  superseded: "⏭️ canary passed, superseded by a newer commit",
  failed: "❌ release failed",
  cancelled: "⏹️ release cancelled",
};

export function releaseSummary(r: ReleaseResult, ctx: SummaryContext): string {
  const parts = [`## batchship ${text(r.pipeline)}: ${HEADLINE[r.status]}`, commitLine(r.commit, r.branch, ctx)];
  parts.push(table(["Stage", "Outcome", "Duration", "Details"], r.stages.map((s) => stageRow(s, r, ctx.links))));
  if (r.canary) {
    const counts = JOB_STATUSES.map((s) => String(r.canary?.summary[s] ?? 0));
    parts.push(`**Canary** ${jobLink(r.canary.jobId, ctx.links)} on ${code(r.canary.jobQueue)}${r.canary.fallbackUsed ? " (fallback queue)" : ""}: ${text(r.canary.result)}`);
    parts.push(table(JOB_STATUSES, [counts]));
  }
  const failed = r.canary?.failedChildren ?? [];
  if (failed.length > 0) {
    parts.push("**Failed children**");
    parts.push(
      table(
        ["Child", "Exit code", "Reason", "Log stream"],
        failed.map((c) => [
          jobLink(c.jobId, ctx.links),
          c.exitCode === undefined ? "" : String(c.exitCode),
          text(c.statusReason ?? ""),
          c.logStreamName ? link(code(c.logStreamName), c.logGroupName && ctx.links?.log?.(c.logGroupName, c.logStreamName)) : "",
        ]),
      ),
    );
  }
  if (r.hold) {
    parts.push(`Automatic promotion is on hold (${text(r.hold.by)}, ${text(r.hold.at)}): ${text(r.hold.reason)}`);
  }
  if (r.status === "awaiting-promotion") {
    parts.push(`Promote it with this Action and \`command: promote\`, \`commit: ${r.commit}\` (see docs/github-action.md).`);
  }
  if (r.status === "canary-running") {
    parts.push("The canary was not followed (`wait: false`). Run the release again with `wait: true` to follow it to a verdict.");
  }
  if (r.supersededBy) parts.push(`Not promoted: ${text(r.supersededBy.reason)}.`);
  if (r.error) parts.push(errorBlock(r.error));
  return parts.join("\n\n") + "\n";
}

export function promoteSummary(r: PromoteResult, ctx: SummaryContext): string {
  const what = r.alreadyPromoted ? "✅ already promoted" : "✅ promoted";
  return [
    `## batchship ${text(r.pipeline)}: ${what}`,
    commitLine(r.commit, undefined, ctx),
    table(
      ["", ""],
      [
        ["Image", link(code(r.image.digest), imageLink(r.image.uri, r.image.digest, ctx.links))],
        ["Candidate", definitionLink(r.candidate.arn, ctx.links)],
        ["Production", definitionLink(r.production.arn, ctx.links)],
      ],
    ),
  ].join("\n\n") + "\n";
}

export function rollbackSummary(r: RollbackResult, ctx: SummaryContext): string {
  return [
    `## batchship ${text(r.pipeline)}: ↩️ rolled back`,
    table(
      ["", "Revision", "Release", "Image"],
      [
        ["From", definitionLink(r.from.arn, ctx.links), text(r.from.releaseId ?? "-"), code(r.from.image)],
        ["To", definitionLink(r.to.arn, ctx.links), text(r.to.releaseId), code(r.to.image)],
      ],
    ),
  ].join("\n\n") + "\n";
}

export function statusSummary(s: PipelineStatus, ctx: SummaryContext): string {
  const p = s.production;
  const rows = s.candidates.map((c) => [
    definitionLink(c.arn, ctx.links),
    text(c.releaseId ?? "-"),
    text(c.canary ?? "running or not started"),
    c.promoted ? "yes" : "",
  ]);
  return [
    `## batchship ${text(s.pipeline)}: status`,
    p ? `**Production** ${definitionLink(p.arn, ctx.links)}: release ${text(p.releaseId ?? "-")}, image ${code(p.image)}` : "**Production**: no revision yet",
    table(["Candidate", "Release", "Canary", "Promoted"], rows),
    ...(s.awaitingPromotion.length > 0 ? [`Awaiting promotion: ${s.awaitingPromotion.map((a) => text(a.releaseId ?? "-")).join(", ")}`] : []),
  ].join("\n\n") + "\n";
}

/** A failure before or outside the engine's result: bad input, invalid spec, AWS errors. */
export function failureSummary(command: string, error: { code: string; message: string; hint?: string | undefined }): string {
  return [`## batchship ${text(command)}: ❌ failed`, errorBlock(error)].join("\n\n") + "\n";
}

function commitLine(commit: string, branch: string | undefined, ctx: SummaryContext): string {
  const sha = link(code(commit.slice(0, 12)), ctx.commitUrl);
  const on = branch === undefined ? "" : ` on ${code(branch)}`;
  const message = ctx.commitMessage ? `: ${text(ctx.commitMessage.split("\n")[0] ?? "", 120)}` : "";
  return `Commit ${sha}${on}${message}`;
}

function stageRow(s: StageRecord, r: ReleaseResult, links: BackendLinks | undefined): string[] {
  // The canary stage is "done" when it reached a verdict; the verdict is what a reader wants.
  const outcome = s.stage === "canary" && r.canary ? r.canary.result : s.outcome === "reused" ? "already done" : s.outcome;
  return [s.stage, outcome, formatDuration(s.durationMs), stageDetails(s, r, links)];
}

function stageDetails(s: StageRecord, r: ReleaseResult, links: BackendLinks | undefined): string {
  const failedDetail = s.outcome === "failed" && s.detail ? text(s.detail, 200) : undefined;
  switch (s.stage) {
    case "build": {
      const build = r.build ? `CodeBuild ${link(code(r.build.id), links?.build?.(r.build.id) ?? r.build.logUrl)}` : "image already built";
      const image = r.image ? `, image ${link(code(r.image.digest), imageLink(r.image.uri, r.image.digest, links))}` : "";
      return failedDetail ?? `${build}${image}`;
    }
    case "candidate":
      return failedDetail ?? (r.candidate ? definitionLink(r.candidate.arn, links) : "");
    case "canary":
      return r.canary ? `${jobLink(r.canary.jobId, links)}: ${text(r.canary.reason ?? r.canary.result, 200)}` : (failedDetail ?? "");
    case "promote":
      return failedDetail ?? (r.production ? definitionLink(r.production.arn, links) : "");
    default:
      return failedDetail ?? text(s.detail ?? "");
  }
}

function definitionLink(arn: string, links: BackendLinks | undefined): string {
  // `name:revision` reads better than the whole ARN; the link carries the rest.
  const short = arn.split("/").pop() ?? arn;
  return link(code(short), links?.jobDefinition?.(arn));
}

function jobLink(jobId: string, links: BackendLinks | undefined): string {
  return link(code(jobId), links?.job?.(jobId));
}

function imageLink(uri: string, digest: string, links: BackendLinks | undefined): string | undefined {
  const repositoryUri = uri.split("@")[0] ?? uri;
  const name = repositoryUri.slice(repositoryUri.indexOf("/") + 1);
  return links?.image?.({ name, uri: repositoryUri }, digest);
}

function errorBlock(error: { code: string; message: string; hint?: string | undefined }): string {
  // Spec problems come one per line: kept apart with <br>, each escaped on its own.
  const message = error.message.split("\n").map((line) => text(line, 500)).join("<br>");
  const hint = error.hint ? [">", `> **Fix:** ${text(error.hint, 500)}`] : [];
  return [`> **Error** ${code(error.code)}: ${message}`, ...hint].join("\n");
}
