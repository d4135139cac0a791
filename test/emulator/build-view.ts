import type { BuildRecord } from "./build-scripts.js";

/** CodeBuild's phases in the order a build goes through them. */
const PHASES = [
  "SUBMITTED",
  "QUEUED",
  "PROVISIONING",
  "DOWNLOAD_SOURCE",
  "INSTALL",
  "PRE_BUILD",
  "BUILD",
  "POST_BUILD",
  "UPLOAD_ARTIFACTS",
  "FINALIZING",
  "COMPLETED",
];
/** The phases a slow build shows, one per poll: enough for phase-change output to be seen. */
const SLOW_PROGRESS = ["SUBMITTED", "PROVISIONING", "PRE_BUILD", "BUILD", "POST_BUILD"];

/**
 * The build as BatchGetBuilds shows it at the record's current poll. moto's own build object
 * (timestamps already in epoch seconds) supplies everything the script does not decide.
 */
export function buildView(build: any, record: BuildRecord): any {
  const out = withOverrides({ ...build }, record);
  const start = typeof build.startTime === "number" ? build.startTime : Date.now() / 1000;

  if (record.stopped === true) {
    out.buildStatus = "STOPPED";
    out.currentPhase = "COMPLETED";
    out.buildComplete = true;
    out.endTime = start;
    out.phases = [...PHASES.slice(0, 4).map((type) => ended(type, "SUCCEEDED", start)), ended("INSTALL", "STOPPED", start), { phaseType: "COMPLETED", startTime: start }];
    return out;
  }

  if (record.polls <= record.slowPolls || record.gate?.open === false) {
    const current = SLOW_PROGRESS[Math.min(record.polls, SLOW_PROGRESS.length) - 1] ?? "SUBMITTED";
    const upTo = PHASES.indexOf(current);
    out.buildStatus = "IN_PROGRESS";
    out.currentPhase = current;
    out.buildComplete = false;
    delete out.endTime;
    out.phases = PHASES.slice(0, upTo + 1).map((type, i) => (i < upTo ? ended(type, "SUCCEEDED", start) : { phaseType: type, startTime: start }));
    return out;
  }

  const outcome = record.outcome;
  if (outcome.status === "SUCCEEDED") return out;

  const failedAt = Math.max(PHASES.indexOf(outcome.phase), 0);
  const before = PHASES.slice(0, failedAt).map((type) => ended(type, "SUCCEEDED", start));
  const failed = { ...ended(PHASES[failedAt] ?? outcome.phase, "FAILED", start), contexts: [{ statusCode: outcome.statusCode, message: outcome.message }] };
  out.buildStatus = "FAILED";
  out.currentPhase = "COMPLETED";
  out.buildComplete = true;
  out.endTime = start;
  out.phases = [...before, failed, ...phasesAfterFailure(outcome.phase).map((type) => ended(type, "SUCCEEDED", start)), { phaseType: "COMPLETED", startTime: start }];
  return out;
}

/** The StartBuild answer: moto's just-queued build, with the request's environment overrides. */
export function startedView(build: any, record: BuildRecord): any {
  return withOverrides({ ...build }, record);
}

/** As CodeBuild runs them: post_build still runs after a failed build phase, earlier failures skip ahead. */
function phasesAfterFailure(phase: string): string[] {
  if (phase === "BUILD") return ["POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING"];
  if (phase === "POST_BUILD") return ["UPLOAD_ARTIFACTS", "FINALIZING"];
  return ["FINALIZING"];
}

function ended(type: string, status: string, at: number): Record<string, unknown> {
  return { phaseType: type, phaseStatus: status, startTime: at, endTime: at, durationInSeconds: 0 };
}

/** moto drops environmentVariablesOverride; CodeBuild shows them on the build's environment. */
function withOverrides(build: any, record: BuildRecord): any {
  const existing: any[] = Array.isArray(build.environment?.environmentVariables) ? build.environment.environmentVariables : [];
  const overridden = new Set(record.overrides.map((v) => v.name));
  const variables = [
    ...existing.filter((v) => !overridden.has(v.name)),
    ...record.overrides.map((v) => ({ name: v.name, value: v.value, type: v.type ?? "PLAINTEXT" })),
  ];
  return { ...build, environment: { ...build.environment, environmentVariables: variables } };
}
