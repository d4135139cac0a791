import { dirname } from "node:path";
import { createBackendFor, oneCommandAwsOptions } from "../backend.js";
import { BatchshipError } from "../errors.js";
import { readBuildSources } from "../git/build-sources.js";
import { ledgerForSpec } from "../git/ledger-for-spec.js";
import { loadPipelineAtCommit, loadPipelineFile } from "../load-pipeline.js";
import { checkoutHistory } from "../git/source-history.js";
import { createEngineContext, type EngineContext, type PollingOptions } from "../release/context.js";
import type { ReleaseObserver } from "../release/events.js";
import { promoteRelease } from "../release/promote-release.js";
import { releaseIdFor } from "../release/release-id.js";
import type { ReleaseResult } from "../release/result.js";
import { rollbackPipeline } from "../release/rollback.js";
import { runRelease } from "../release/run-release.js";
import { pipelineStatus } from "../release/status.js";
import { cancelRelease } from "../release/cancel-release.js";
import { readSpecFile, type SpecProblem } from "../spec/index.js";
import type { PipelineSpec } from "../spec/schema.js";
import type { RunFacts } from "./event.js";
import type { ActionInputs } from "./inputs.js";
import { outputsOfEvent, promoteOutputs, releaseOutputs, rollbackOutputs, statusOutputs, type OutputValues } from "./outputs.js";
import { promoteSummary, releaseSummary, rollbackSummary, statusSummary, type SummaryContext } from "./summary.js";
import { cancelSummary, doctorSummary, validateSummary } from "./tool-summaries.js";

export interface CommandDeps {
  /** The runner's environment, read once: GitOps credentials and cache, the actor. */
  env: Readonly<Record<string, string | undefined>>;
  /** Who promotes or rolls back, for the records (GITHUB_ACTOR on a runner). */
  actor: string;
  observe: ReleaseObserver;
  /** `validate`: one annotation per problem, on the file's line (the runner shows it on a pull request's diff). */
  annotate?: (problem: SpecProblem) => void;
  setOutputs: (values: OutputValues) => void;
  facts: RunFacts;
}

/** What a command ended as: the job summary, and the failure that fails the step, if any. */
export interface CommandOutcome {
  summary: string;
  failure?: NonNullable<ReleaseResult["error"]>;
}

/**
 * Inputs → engine → outputs, exactly as the CLI drives the same engine functions: no release
 * logic here. Errors the engine throws (invalid spec, nothing to promote, AWS) propagate to the
 * caller, which turns them into an annotation and a failed step.
 */
export async function runCommand(inputs: ActionInputs, deps: CommandDeps): Promise<CommandOutcome> {
  switch (inputs.command) {
    case "release": {
      const loaded = await loadPipelineAtCommit(inputs.pipeline, { commit: inputs.commit, branch: inputs.branch });
      deps.setOutputs({ "release-id": releaseIdFor(loaded.spec.name, loaded.commit) });
      const ctx = await engineFor(loaded.spec, inputs, deps);
      const sources = await readBuildSources(dirname(inputs.pipeline), loaded.commit, loaded.spec.image);
      const result = await runRelease(ctx, {
        spec: loaded.spec,
        commit: loaded.commit,
        branch: loaded.branch,
        wait: inputs.wait,
        sources,
        rebuild: inputs.rebuild,
        ...(inputs.retry === true ? { retry: true } : {}),
      });
      deps.setOutputs(releaseOutputs(result));
      const summary = releaseSummary(result, summaryContext(ctx, deps));
      if (result.status !== "failed" && result.status !== "cancelled") return { summary };
      return {
        summary,
        failure: result.error ?? { code: "CANARY_FAILED", message: `Release ${result.releaseId} failed`, retryable: false },
      };
    }
    case "promote": {
      const loaded = await loadPipelineAtCommit(inputs.pipeline, { commit: inputs.commit, branch: inputs.branch });
      const ctx = await engineFor(loaded.spec, inputs, deps);
      const result = await promoteRelease(ctx, loaded.spec, loaded.commit, { by: deps.actor, allowOlder: inputs.allowOlder });
      deps.setOutputs(promoteOutputs(result));
      return { summary: promoteSummary(result, summaryContext(ctx, deps)) };
    }
    case "rollback": {
      // As in the CLI: the spec on disk names what to roll back; nothing is built from it.
      const spec = await loadPipelineFile(inputs.pipeline);
      const ctx = await engineFor(spec, inputs, deps);
      const result = await rollbackPipeline(ctx, spec, { by: deps.actor });
      deps.setOutputs(rollbackOutputs(result));
      return { summary: rollbackSummary(result, summaryContext(ctx, deps)) };
    }
    case "status": {
      const spec = await loadPipelineFile(inputs.pipeline);
      const ctx = await engineFor(spec, inputs, deps);
      const status = await pipelineStatus(ctx, spec);
      deps.setOutputs(statusOutputs(status));
      return { summary: statusSummary(status, summaryContext(ctx, deps)) };
    }
    case "cancel": {
      const loaded = await loadPipelineAtCommit(inputs.pipeline, { commit: inputs.commit, branch: inputs.branch });
      const ctx = await engineFor(loaded.spec, inputs, deps);
      const result = await cancelRelease(ctx, loaded.spec, loaded.commit);
      deps.setOutputs({ "release-id": result.releaseId, status: "cancelled", ...(result.build ? { "build-id": result.build.id } : {}) });
      return { summary: cancelSummary(result) };
    }
    case "doctor": {
      const spec = await loadPipelineFile(inputs.pipeline);
      const ctx = await engineFor(spec, inputs, deps);
      const checks = ctx.backend.doctor === undefined ? [] : await ctx.backend.doctor(spec);
      const failed = checks.filter((check) => check.level === "fail");
      deps.setOutputs({ status: failed.length > 0 ? "failed" : "ok" });
      const summary = doctorSummary(spec.name, checks);
      if (failed.length === 0) return { summary };
      const message = failed.map((check) => `${check.subject}: ${check.message}`).join("; ");
      return { summary, failure: { code: "ENVIRONMENT", message: `doctor found ${failed.length} problem(s): ${message}`, retryable: false } };
    }
    case "validate": {
      const problems: SpecProblem[] = [];
      for (const file of inputs.files) {
        const loaded = await readSpecFile(file);
        if (!loaded.ok) problems.push(...loaded.problems);
      }
      for (const problem of problems) deps.annotate?.(problem);
      deps.setOutputs({ status: problems.length > 0 ? "invalid" : "ok" });
      const summary = validateSummary(inputs.files, problems, deps.env["GITHUB_WORKSPACE"]);
      if (inputs.files.length === 0) {
        return { summary, failure: { code: "USAGE", message: "validate: the pipeline input lists no files", retryable: false } };
      }
      if (problems.length === 0) return { summary };
      return { summary, failure: { code: "SPEC_INVALID", message: `${problems.length} problem(s) in the pipeline files`, retryable: false } };
    }
  }
}

/** The engine as the CLI builds it: the spec's backend and, with GitOps, its release ledger. */
async function engineFor(spec: PipelineSpec, inputs: ActionInputs, deps: CommandDeps): Promise<EngineContext> {
  if (spec.build.backend !== "codebuild") {
    // The local backend builds and runs on the machine itself, with state on its disk: a runner
    // is gone after the job, so nothing could resume or promote the release later.
    throw new BatchshipError("USAGE", `Cannot run pipeline ${spec.name} in the Action: build.backend is ${spec.build.backend}`, {
      hint: "the Action releases pipelines with build.backend: codebuild; use the CLI for the local backend",
    });
  }
  const ledger = await ledgerForSpec(spec, inputs.pipeline, deps.env);
  const polling: Partial<PollingOptions> = {};
  if (inputs.pollSeconds !== undefined) {
    polling.buildIntervalMs = inputs.pollSeconds * 1000;
    polling.canaryIntervalMs = inputs.pollSeconds * 1000;
  }
  return createEngineContext(createBackendFor(spec, { repositoryDir: dirname(inputs.pipeline) }, { ...deps.env }, oneCommandAwsOptions(deps.env)), {
    polling,
    ...(ledger === undefined ? {} : { ledger }),
    // Which commit is newer, told by the checkout (fetch-depth 0 lets it tell more often).
    history: checkoutHistory(dirname(inputs.pipeline)),
    observe: (event) => {
      deps.setOutputs(outputsOfEvent(event));
      deps.observe(event);
    },
  });
}

function summaryContext(ctx: EngineContext, deps: CommandDeps): SummaryContext {
  return { links: ctx.backend.links, ...deps.facts };
}
