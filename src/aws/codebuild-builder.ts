import {
  BatchGetBuildsCommand,
  ListBuildsForProjectCommand,
  StartBuildCommand,
  StopBuildCommand,
  type Build,
  type CodeBuildClient,
  type EnvironmentVariable,
} from "@aws-sdk/client-codebuild";
import { BatchshipError } from "../errors.js";
import type { BuildPhase, BuildRequest, BuildState, Builder } from "../release/ports.js";
import { BUILDSPEC } from "./buildspec.js";
import { codebuildDefinition } from "./codebuild-definition.js";
import { awsCall } from "./errors.js";
import { createBatchLoader } from "./batch-loader.js";

/** Marks a build as started by batchship for one release, so a resume can find it again. */
export const RELEASE_ID_VARIABLE = "BATCHSHIP_RELEASE_ID";

// BatchGetBuilds takes at most 100 ids per call.
const GET_BUILDS_LIMIT = 100;

export interface CodeBuildBuilderOptions {
  /** How long a BatchGetBuilds waits for more builds to read (see batch-loader.ts); default 0. */
  batchWindowMs?: number;
}

export function createCodeBuildBuilder(codebuild: CodeBuildClient, options: CodeBuildBuilderOptions = {}): Builder {
  // Every getBuild of this builder — one per poll of each build followed — shares BatchGetBuilds calls.
  const getOne = createBatchLoader<Build>({
    maxBatch: GET_BUILDS_LIMIT,
    windowMs: options.batchWindowMs ?? 0,
    async load(ids) {
      const operation = ids.length === 1 ? `read CodeBuild build ${ids[0]}` : `read ${ids.length} CodeBuild builds (${ids[0]}, …)`;
      const builds = await getBuilds(codebuild, ids, operation);
      return new Map(builds.flatMap((build) => [build.id, build.arn].flatMap((key) => (key === undefined ? [] : [[key, build] as const]))));
    },
  });
  return {
    definition: (project) => codebuildDefinition(codebuild, project),

    async startBuild(request) {
      // CodeBuild keeps a token for five minutes: a start repeated after a lost answer gets the
      // same build back, while a release built again after a failed build needs a new token.
      const failedBefore = (await releaseBuilds(codebuild, request)).filter((b) => !isReusable(b)).length;
      const output = await awsCall(`start CodeBuild build in project ${request.project}`, () =>
        codebuild.send(
          new StartBuildCommand({
            projectName: request.project,
            sourceVersion: request.commit,
            idempotencyToken: `${request.releaseId}-${failedBefore}`,
            timeoutInMinutesOverride: request.timeoutMinutes,
            environmentVariablesOverride: buildEnvironment(request),
            // batchship's build, not the project's: the project's buildspec (or the app
            // repository's buildspec.yml) may do anything, and without privileged mode
            // Docker is unreachable.
            buildspecOverride: BUILDSPEC,
            privilegedModeOverride: true,
          }),
        ),
      );
      if (!output.build) {
        throw new BatchshipError("AWS", `Could not start CodeBuild build in project ${request.project}: no build returned`);
      }
      return toBuildState(output.build);
    },

    async findBuild(request) {
      // The newest: a failed one is this release's outcome until someone retries it.
      // Builds are listed newest first: the first page holding one of this release's ends the search.
      const [newest] = await releaseBuilds(codebuild, request, (found) => found.length > 0);
      return newest === undefined ? undefined : toBuildState(newest);
    },

    async stopBuild(buildId) {
      await awsCall(`stop CodeBuild build ${buildId}`, () => codebuild.send(new StopBuildCommand({ id: buildId })));
    },

    async getBuild(buildId) {
      const build = await getOne(buildId);
      if (!build) {
        throw new BatchshipError("ENVIRONMENT", `Could not read CodeBuild build ${buildId}: it does not exist`);
      }
      return toBuildState(build);
    },
  };
}

/** The buildspec.yml contract: exactly these variables, all PLAINTEXT. */
export function buildEnvironment(request: BuildRequest): EnvironmentVariable[] {
  const buildArgs = Object.entries(request.buildArgs)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n");
  const variables: Array<[string, string]> = [
    ["IMAGE_REPOSITORY_URI", request.imageRepositoryUri],
    ["IMAGE_TAGS", request.imageTags.join(" ")],
    ["DOCKERFILE", request.dockerfile],
    ["BUILD_CONTEXT", request.context],
    // Empty rather than omitted, so a BUILD_ARGS set on the project cannot leak in.
    ["BUILD_ARGS", buildArgs],
    [RELEASE_ID_VARIABLE, request.releaseId],
  ];
  return variables.map(([name, value]) => ({ name, value, type: "PLAINTEXT" }));
}

export function toBuildState(build: Build): BuildState {
  const status = build.buildStatus;
  const state: BuildState = {
    id: build.id ?? "",
    status: status === "IN_PROGRESS" ? "in-progress" : status === "SUCCEEDED" ? "succeeded" : "failed",
    phases: (build.phases ?? []).map(toPhase),
  };
  if (state.status === "failed" && status !== undefined) state.detail = status;
  if (build.currentPhase) state.currentPhase = build.currentPhase;
  if (build.logs?.deepLink) state.logUrl = build.logs.deepLink;
  return state;
}

function toPhase(phase: NonNullable<Build["phases"]>[number]): BuildPhase {
  const result: BuildPhase = {
    name: phase.phaseType ?? "UNKNOWN",
    contexts: (phase.contexts ?? [])
      .map((context) => [context.statusCode, context.message].filter(Boolean).join(": "))
      .filter((text) => text !== ""),
  };
  if (phase.phaseStatus) result.status = phase.phaseStatus;
  return result;
}

async function getBuilds(codebuild: CodeBuildClient, ids: string[], operation: string): Promise<Build[]> {
  const output = await awsCall(operation, () => codebuild.send(new BatchGetBuildsCommand({ ids })));
  return output.builds ?? [];
}

/**
 * This release's builds, newest first, from every page of the project's builds until `enough`
 * says so. ListBuildsForProject lists 100 ids a page, newest first by default; it refuses a
 * `sortOrder` once the project has more than 100 builds, so none is sent. A busy project's
 * newest 100 builds may all be other releases'.
 */
async function releaseBuilds(
  codebuild: CodeBuildClient,
  request: BuildRequest,
  enough: (found: Build[]) => boolean = () => false,
): Promise<Build[]> {
  const found: Build[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const listed = await awsCall(`list CodeBuild builds of project ${request.project}`, () =>
      codebuild.send(new ListBuildsForProjectCommand({ projectName: request.project, ...(token === undefined ? {} : { nextToken: token }) })),
    );
    const ids = listed.ids ?? [];
    if (ids.length > 0) {
      const order = new Map(ids.map((id, index) => [id, index]));
      const builds = await getBuilds(codebuild, ids, `read CodeBuild builds of project ${request.project}`);
      found.push(
        ...builds
          .filter((build) => build.sourceVersion === request.commit && releaseIdOf(build) === request.releaseId)
          .sort((a, b) => startMillis(b) - startMillis(a) || (order.get(a.id ?? "") ?? 0) - (order.get(b.id ?? "") ?? 0)),
      );
    }
    nextToken = listed.nextToken;
  } while (nextToken !== undefined && !enough(found));
  return found;
}

function isReusable(build: Build): boolean {
  return build.buildStatus === "IN_PROGRESS" || build.buildStatus === "SUCCEEDED";
}

function releaseIdOf(build: Build): string | undefined {
  return build.environment?.environmentVariables?.find((variable) => variable.name === RELEASE_ID_VARIABLE)?.value;
}

function startMillis(build: Build): number {
  return build.startTime?.getTime() ?? 0;
}
