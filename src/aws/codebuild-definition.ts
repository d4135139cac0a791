import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { BatchGetProjectsCommand, type CodeBuildClient } from "@aws-sdk/client-codebuild";
import { BatchshipError } from "../errors.js";
import type { BuildDefinition } from "../release/ports.js";
import { awsCall, HINTS } from "./errors.js";

// Two folders up from src/aws, build/aws and the Action bundle's dist/action alike.
const BUILDSPEC_URL = new URL("../../buildspec.yml", import.meta.url);

let buildspecVersion: Promise<string> | undefined;

/** sha-256 of the buildspec.yml batchship ships: any change to it is a new build definition. */
export function codebuildDefinitionVersion(): Promise<string> {
  buildspecVersion ??= readFile(BUILDSPEC_URL).then(
    (content) => createHash("sha256").update(content).digest("hex"),
    (error: unknown) => {
      buildspecVersion = undefined;
      throw new BatchshipError("ENVIRONMENT", `Could not read buildspec.yml next to batchship: ${(error as Error).message}`, {
        hint: "batchship's installation is incomplete: reinstall it",
        cause: error,
      });
    },
  );
  return buildspecVersion;
}

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
    version: await codebuildDefinitionVersion(),
    platform: ["codebuild", environment.type ?? "", environment.image ?? ""].join(" "),
  };
}
