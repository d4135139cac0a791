import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emulatorEnv, type Emulator } from "../emulator/index.js";

export const SECRET = "test-webhook-secret-new";
export const OLD_SECRET = "test-webhook-secret-old";
export const GITHUB_TOKEN = "ghp_testtoken0000000000000000000000000000";
export const API_TOKEN = "api-token-0123456789abcdef";

/** A pipeline file for the service tests: the app repository is a local git repo reached by file:// URL. */
export function servicePipelineYaml(name: string, options: { repository: string; url: string; queue?: string; mode?: "auto" | "manual"; arraySize?: number }): string {
  return `apiVersion: batchship/v1
name: ${name}
source:
  repository: ${options.repository}
  branches: [main]
  url: ${options.url}
image:
  repository: ${name}
build:
  backend: codebuild
  project: svc-image
jobDefinition:
  name: ${name}
  containerProperties:
    command: ["run"]
    vcpus: 1
    memory: 256
canary:
  jobQueue: ${options.queue ?? name}
  arraySize: ${options.arraySize ?? 2}
promotion:
  mode: ${options.mode ?? "auto"}
`;
}

export interface ServiceDirs {
  root: string;
  pipelines: string;
  data: string;
  writePipeline(name: string, yaml: string): Promise<void>;
  remove(): Promise<void>;
}

export async function createServiceDirs(): Promise<ServiceDirs> {
  const root = await mkdtemp(join(tmpdir(), "batchship-service-"));
  const pipelines = join(root, "config", "pipelines");
  await mkdir(pipelines, { recursive: true });
  return {
    root,
    pipelines,
    data: join(root, "data"),
    writePipeline: (name, yaml) => writeFile(join(pipelines, `${name}.yml`), yaml),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** Environment and flags of a service under test: fast polls, the emulator for AWS, the stand-in for GitHub. */
export function serviceSetup(emulator: Emulator, dirs: ServiceDirs, githubUrl: string): { env: Record<string, string>; args: string[] } {
  return {
    env: {
      ...emulatorEnv(emulator),
      BATCHSHIP_WEBHOOK_SECRET: `${OLD_SECRET}, ${SECRET}`,
      BATCHSHIP_GITHUB_TOKEN: GITHUB_TOKEN,
      BATCHSHIP_API_TOKEN: API_TOKEN,
      BATCHSHIP_GITHUB_API_URL: githubUrl,
      // The emulator and the stand-in can take polls every 50 ms; AWS and GitHub are spared them by a 1 s floor.
      BATCHSHIP_ALLOW_SHORT_INTERVALS: "1",
      // The app repositories are local repositories reached by file:// URL.
      BATCHSHIP_ALLOW_FILE_SOURCES: "1",
    },
    args: ["--pipelines", dirs.pipelines, "--data-dir", dirs.data, "--poll-interval", "0.05", "--report-retry", "0.05", "--max-body-bytes", "65536"],
  };
}
