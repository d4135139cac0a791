import { dirname, resolve } from "node:path";
import { formatCounts } from "../canary/counts.js";
import { readBuildSources } from "../git/build-sources.js";
import { BatchshipError, exitCodeFor } from "../errors.js";
import { promoteRelease } from "../release/promote-release.js";
import type { ReleaseResult } from "../release/result.js";
import { rollbackPipeline } from "../release/rollback.js";
import { runRelease } from "../release/run-release.js";
import { pipelineStatus, type PipelineStatus } from "../release/status.js";
import { loadPipelineAtCommit, loadPipelineFile } from "../load-pipeline.js";
import { hasUncommittedChanges } from "../git/uncommitted.js";
import { ledgerLines } from "./gitops-commands.js";
import type { CommandEnv } from "./main.js";

interface PipelineOptions {
  pipeline: string;
  json?: boolean;
}

export async function releaseCommand(
  env: CommandEnv,
  o: PipelineOptions & { commit?: string; branch?: string; pollInterval?: number; wait?: boolean; rebuild?: boolean; retry?: boolean },
): Promise<number> {
  const json = o.json === true;
  const loaded = await loadPipelineAtCommit(o.pipeline, pick(o, ["commit", "branch"]));
  const ctx = await env.engine(loaded.spec, {
    json,
    pipelineFile: o.pipeline,
    ...(o.pollInterval ? { pollSeconds: o.pollInterval } : {}),
    ...(o.wait === false ? { detachJobs: true } : {}),
  });
  if (await hasUncommittedChanges(o.pipeline)) {
    env.io.stderr(`warning: ${o.pipeline} has uncommitted changes; the release uses the file as committed at ${loaded.commit.slice(0, 12)}`);
  }
  if (!json) env.io.stderr(`releasing ${loaded.spec.name} at ${loaded.commit.slice(0, 12)} (${loaded.branch})`);
  const sources = await readBuildSources(dirname(resolve(o.pipeline)), loaded.commit, loaded.spec.image);
  const stopInterrupted = onInterrupt(() => env.io.stderr(interruptedText(loaded.spec.build.backend, o.pipeline, loaded.commit)));
  const result = await runRelease(ctx, {
    spec: loaded.spec,
    commit: loaded.commit,
    branch: loaded.branch,
    sources,
    ...(o.wait === false ? { wait: false } : {}),
    ...(o.rebuild === true ? { rebuild: true } : {}),
    ...(o.retry === true ? { retry: true } : {}),
  }).finally(stopInterrupted);
  if (json) env.io.stdout(JSON.stringify(result));
  else env.io.stderr(releaseSummary(result, o.pipeline));
  if (result.error) return exitCodeFor(result.error.code);
  return result.status === "failed" ? 1 : 0;
}

export async function promoteCommand(env: CommandEnv, o: PipelineOptions & { commit?: string; allowOlder?: boolean }): Promise<number> {
  const loaded = await loadPipelineAtCommit(o.pipeline, pick(o, ["commit"]));
  const ctx = await env.engine(loaded.spec, { json: o.json === true, pipelineFile: o.pipeline });
  const result = await promoteRelease(ctx, loaded.spec, loaded.commit, { by: env.actor, allowOlder: o.allowOlder === true });
  if (o.json) env.io.stdout(JSON.stringify(result));
  else {
    const name = loaded.spec.jobDefinition.name;
    const prod = `${name}:${result.production.revision}`;
    const replaced = result.replaced === null ? "" : `; it replaces ${name}:${result.replaced.revision} (release ${result.replaced.releaseId ?? "not made by batchship"})`;
    if (result.supersededBy) env.io.stderr(`${result.releaseId} was registered, but production runs ${prod}: ${result.supersededBy.reason}`);
    else env.io.stderr(result.alreadyPromoted ? `already promoted as ${prod}` : `promoted ${result.releaseId} as ${prod} (${result.image.uri})${replaced}`);
  }
  return result.supersededBy ? 1 : 0;
}

export async function rollbackCommand(env: CommandEnv, o: PipelineOptions): Promise<number> {
  const spec = await loadPipelineFile(o.pipeline);
  const ctx = await env.engine(spec, { json: o.json === true, pipelineFile: o.pipeline });
  const result = await rollbackPipeline(ctx, spec, { by: env.actor });
  if (o.json) env.io.stdout(JSON.stringify(result));
  else {
    const name = spec.jobDefinition.name;
    env.io.stderr(
      `rolled back ${name}:${result.from.revision} → ${name}:${result.to.revision} (release ${result.to.releaseId}, ${result.to.image})`,
    );
  }
  return 0;
}

export async function statusCommand(env: CommandEnv, o: PipelineOptions): Promise<number> {
  const spec = await loadPipelineFile(o.pipeline);
  const status = await pipelineStatus(await env.engine(spec, { json: true, pipelineFile: o.pipeline }), spec);
  if (o.json) env.io.stdout(JSON.stringify(status));
  else env.io.stdout(statusText(status, spec.jobDefinition.name));
  return 0;
}

export async function doctorCommand(env: CommandEnv, o: PipelineOptions): Promise<number> {
  const spec = await loadPipelineFile(o.pipeline);
  const ctx = await env.engine(spec, { json: true });
  if (!ctx.backend.doctor) throw new BatchshipError("USAGE", "This backend has no doctor checks");
  const checks = await ctx.backend.doctor(spec);
  for (const c of checks) {
    env.io.stdout(`${c.level.toUpperCase().padEnd(4)} ${c.subject}: ${c.message}${c.hint ? `\n     hint: ${c.hint}` : ""}`);
  }
  return checks.some((c) => c.level === "fail") ? 3 : 0;
}

/** Ctrl-C during a release: say what keeps running, then end as an interrupted process does (130). */
function onInterrupt(say: () => void): () => void {
  const handler = (): void => {
    say();
    process.exit(130);
  };
  process.once("SIGINT", handler);
  return () => void process.off("SIGINT", handler);
}

function interruptedText(backend: string, pipelineFile: string, commit: string): string {
  const again = `batchship release --pipeline ${pipelineFile} --commit ${commit}`;
  const cancel = `batchship cancel --pipeline ${pipelineFile} --commit ${commit}`;
  if (backend === "local") {
    return [
      "interrupted: the local build and canary run inside this process and stop with it.",
      `  the next \`${again}\` picks the release up: it finds the canary by name, ends what is left`,
      "  of its children and runs them again; a finished build or canary is not run twice.",
    ].join("\n");
  }
  return [
    "interrupted: the build and the canary keep running in AWS.",
    `  follow them again (nothing is built or submitted twice): ${again}`,
    `  or stop them: ${cancel}`,
  ].join("\n");
}

function releaseSummary(r: ReleaseResult, pipelineFile: string): string {
  const lines: string[] = [];
  if (r.status === "promoted") lines.push(`released ${r.releaseId}: promoted ${r.production?.arn ?? ""}`);
  if (r.status === "awaiting-promotion") {
    lines.push(`canary passed; ${r.releaseId} awaits promotion:`);
    if (r.hold) lines.push(`  automatic promotion is held since ${r.hold.at} by ${r.hold.by}: ${r.hold.reason}`);
    lines.push(`  batchship promote --pipeline ${pipelineFile} --commit ${r.commit}`);
    if (r.hold) lines.push(`  or let the next release promote itself: batchship unhold --pipeline ${pipelineFile}`);
  }
  if (r.status === "superseded") lines.push(`canary passed; ${r.releaseId} not promoted: ${r.supersededBy?.reason ?? "a newer commit wins"}`);
  if (r.status === "canary-running") {
    lines.push(`canary ${r.canary?.jobId ?? ""} of ${r.releaseId} submitted; run release again (without --no-wait) to follow it`);
  }
  if (r.status === "cancelled") lines.push(`release ${r.releaseId} cancelled: ${r.error?.message ?? ""}`);
  if (r.status === "failed" || r.status === "cancelled") {
    if (r.status === "failed") lines.push(`release ${r.releaseId} failed: ${r.error?.message ?? "see above"}`);
    if (r.error?.hint) lines.push(`  hint: ${r.error.hint}`);
    if (r.canary) lines.push(`  canary ${r.canary.jobId}: ${formatCounts(r.canary.summary)}`);
  } else if (r.canary?.result === "passed" && r.canary.failedChildren.length > 0) {
    lines.push(`  the canary passed with ${r.canary.summary.FAILED} failed children (within canary.minSuccessRate):`);
  }
  for (const child of r.canary?.failedChildren ?? []) {
    const exit = child.exitCode === undefined ? "" : ` exit ${child.exitCode}`;
    const log = child.logStreamName ? ` (log stream ${child.logStreamName})` : "";
    lines.push(`  child ${child.jobId}:${exit} ${child.statusReason ?? ""}${log}`);
  }
  return lines.join("\n");
}

function statusText(s: PipelineStatus, name: string): string {
  const lines = [`pipeline ${s.pipeline}`];
  const p = s.production;
  lines.push(
    p
      ? `production ${name}:${p.revision}  ${p.image}  release ${p.releaseId ?? "(not made by batchship)"}${p.rollbackOf ? `  (rollback of ${p.rollbackOf})` : ""}`
      : `production ${name}: no revision yet`,
  );
  for (const c of s.candidates) {
    lines.push(`candidate ${name}-canary:${c.revision}  release ${c.releaseId ?? "-"}  canary ${c.canary ?? "running or not started"}${c.promoted ? "  promoted" : ""}`);
  }
  for (const a of s.awaitingPromotion) lines.push(`awaiting promotion: ${a.releaseId} (commit ${a.commit ?? "?"})`);
  lines.push(...ledgerLines(s));
  return lines.join("\n");
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

