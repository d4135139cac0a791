import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BUILDSPEC } from "../../src/aws/buildspec.js";

/**
 * The buildspec's shell, run by bash as CodeBuild runs it (one phase's commands in one shell),
 * with `docker` and `aws` replaced by recorders: there is no CodeBuild here, and what matters is
 * what the script asks of them.
 */
const dir = mkdtempSync(join(tmpdir(), "batchship-buildspec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const recorder = (name: string, behaviour: string) => {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/bash\n{ printf '%s\\n' "${name}" "$@"; echo '<end>'; } >> "$CALLS"\n${behaviour}\n`);
  chmodSync(path, 0o755);
};
// `docker login --password-stdin` reads the password, as docker does (else the pipe breaks).
recorder("docker", 'if [ "$1" = login ]; then cat >/dev/null; fi\nif [ "$1" = info ] && [ -n "${NO_DOCKER:-}" ]; then exit 1; fi\nif [ "$1" = buildx ] && [ "$2" = version ] && [ -n "${NO_BUILDX:-}" ]; then exit 1; fi\nexit 0');
recorder("aws", 'if [ "$2" = describe-images ]; then if [ -n "${CACHE_DIGEST:-}" ]; then echo "$CACHE_DIGEST"; exit 0; fi; echo "AccessDenied" >&2; exit 254; fi\necho token');

const phases = parse(BUILDSPEC).phases as Record<string, { commands: string[] }>;
let run = 0;

function runPhase(phase: string, variables: Record<string, string> = {}) {
  run += 1;
  const calls = join(dir, `calls-${run}`);
  writeFileSync(calls, "");
  const script = (phases[phase]?.commands ?? []).join("\n");
  const result = spawnSync("bash", ["--norc", "--noprofile", "-c", script], {
    encoding: "utf8",
    env: {
      PATH: `${dir}:${process.env["PATH"] ?? ""}`,
      HOME: dir,
      CALLS: calls,
      AWS_REGION: "us-east-1",
      IMAGE_REPOSITORY_URI: "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/etl",
      IMAGE_TAGS: "0123456789abcdef0123456789abcdef01234567 main-0123456",
      DOCKERFILE: "Dockerfile",
      BUILD_CONTEXT: ".",
      BUILD_ARGS: "",
      ...variables,
    },
  });
  const invocations = readFileSync(calls, "utf8").split("<end>\n").filter(Boolean).map((call) => call.trimEnd().split("\n"));
  return { ...result, invocations };
}

const buildxBuild = (invocations: string[][]) => invocations.find((argv) => argv[0] === "docker" && argv[1] === "buildx" && argv[2] === "build");

describe("buildspec pre_build", () => {
  it("stops with a message about privileged mode when Docker cannot be reached", () => {
    const result = runPhase("pre_build", { NO_DOCKER: "1" });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/cannot reach Docker.*privileged mode/);
  });

  it("stops naming the images that work when docker buildx is missing", () => {
    const result = runPhase("pre_build", { NO_BUILDX: "1" });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/docker buildx is missing.*aws\/codebuild\/amazonlinux-x86_64-standard:5\.0/);
  });

  it("logs in to the repository's registry", () => {
    const result = runPhase("pre_build");
    expect(result.status).toBe(0);
    expect(result.invocations).toContainEqual(["docker", "login", "--username", "AWS", "--password-stdin", "123456789012.dkr.ecr.us-east-1.amazonaws.com"]);
  });
});

describe("buildspec build", () => {
  it("builds with dockerd's own builder, every tag, no build args, and the newest image as cache", () => {
    const result = runPhase("build", { CACHE_DIGEST: "sha256:feed" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/etl";
    expect(result.invocations).toContainEqual(expect.arrayContaining(["aws", "ecr", "describe-images", "--registry-id", "123456789012", "--repository-name", "team/etl"]));
    expect(buildxBuild(result.invocations)).toEqual([
      "docker", "buildx", "build", "--builder", "default", "--file", "Dockerfile",
      "--tag", `${uri}:0123456789abcdef0123456789abcdef01234567`, "--tag", `${uri}:main-0123456`,
      "--cache-from", `type=registry,ref=${uri}@sha256:feed`,
      "--cache-to", "type=inline", "--provenance=false", "--push", "--", ".",
    ]);
  });

  it("builds without a cache when the lookup fails: the cache never fails a build", () => {
    const result = runPhase("build");
    expect(result.status).toBe(0);
    const argv = buildxBuild(result.invocations) ?? [];
    expect(argv).not.toContain("--cache-from");
    expect(argv).toContain("--push");
  });

  it("passes each build argument whole, spaces included", () => {
    const result = runPhase("build", { BUILD_ARGS: "PYTHON=3.12\nGREETING=hello world\n" });
    expect(result.status).toBe(0);
    const argv = buildxBuild(result.invocations) ?? [];
    expect(argv.join("|")).toContain("--build-arg|PYTHON=3.12|--build-arg|GREETING=hello world|");
  });
});
