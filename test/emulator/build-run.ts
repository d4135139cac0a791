import type { BuildOutcome } from "./build-scripts.js";
import { pushBuiltImage, type EnvironmentVariable } from "./image-push.js";
import { motoJsonCall } from "./moto-client.js";

/**
 * What a started build does, from the StartBuild input and the project, as on CodeBuild: the
 * overrides win over the project's settings. moto ignores both, so the layer decides:
 * - without privileged mode Docker is unreachable, and batchship's buildspec stops at its check;
 * - a buildspec that does not follow batchship's contract (the project's own, not reading
 *   IMAGE_TAGS) runs, succeeds, and pushes none of the tags batchship asked for;
 * - one that does pushes them, and the registry cache tags it names (image-push.ts).
 */
export async function runBuild(motoEndpoint: string, buildId: string, input: any): Promise<BuildOutcome> {
  const project = await readProject(motoEndpoint, String(input.projectName));
  const overrides: EnvironmentVariable[] = Array.isArray(input.environmentVariablesOverride) ? input.environmentVariablesOverride : [];
  const privileged = input.privilegedModeOverride ?? project?.environment?.privilegedMode ?? false;
  const buildspec = input.buildspecOverride ?? project?.source?.buildspec ?? "";
  if (privileged !== true) {
    return {
      status: "FAILED",
      phase: "PRE_BUILD",
      statusCode: "COMMAND_EXECUTION_ERROR",
      message:
        "Error while executing command: docker info. Reason: exit status 1 (Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?)",
    };
  }
  if (!String(buildspec).includes("IMAGE_TAGS")) return { status: "SUCCEEDED" };
  const pushed = await pushBuiltImage(motoEndpoint, buildId, overrides, String(buildspec));
  if (pushed.ok) return { status: "SUCCEEDED", imageDigest: pushed.digest };
  return { status: "FAILED", phase: "BUILD", statusCode: "COMMAND_EXECUTION_ERROR", message: pushed.message };
}

async function readProject(motoEndpoint: string, name: string): Promise<any> {
  const answer = await motoJsonCall(motoEndpoint, "codebuild", "BatchGetProjects", { names: [name] });
  return answer.json?.projects?.[0];
}
