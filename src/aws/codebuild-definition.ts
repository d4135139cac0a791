import { createHash } from "node:crypto";
import { BatchGetProjectsCommand, type CodeBuildClient } from "@aws-sdk/client-codebuild";
import { BatchshipError } from "../errors.js";
import type { BuildDefinition } from "../release/ports.js";
import { BUILDSPEC } from "./buildspec.js";
import { awsCall, HINTS } from "./errors.js";

/** sha-256 of the buildspec every StartBuild sends: any change to it is a new build definition. */
const BUILDSPEC_VERSION = createHash("sha256").update(BUILDSPEC).digest("hex");

/**
 * The project's build environment decides the image's platform (an ARM_CONTAINER builds
 * arm64) and the docker that builds it: both are part of what a build produces.
 */
export async function codebuildDefinition(codebuild: CodeBuildClient, project: string): Promise<BuildDefinition> {
  const output = await awsCall(`read CodeBuild project ${project}`, () =>
    codebuild.send(new BatchGetProjectsCommand({ names: [project] })),
  );
  const environment = output.projects?.[0]?.environment;
  if (environment === undefined) {
    throw new BatchshipError("ENVIRONMENT", `Could not read CodeBuild project ${project}: it does not exist`, {
      hint: HINTS.codebuildProject,
    });
  }
  return {
    version: BUILDSPEC_VERSION,
    platform: ["codebuild", environment.type ?? "", environment.image ?? ""].join(" "),
  };
}
