import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createDockerTool } from "../../src/local/docker-tool.js";

// No docker daemon runs where these tests run: a stand-in `docker` records what the tool asks of
// it (its argv, and the environment file it is handed while that still exists).
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function recordingDocker(): Promise<{
  env: NodeJS.ProcessEnv;
  argv: () => Promise<string[]>;
  envFile: () => Promise<string>;
  /** The value of NPM_TOKEN in the stand-in's own environment. */
  token: () => Promise<string>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "batchship-docker-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, "docker"),
    [
      "#!/bin/sh",
      `printf '%s\\n' "$@" > ${JSON.stringify(join(dir, "argv"))}`,
      `printf '%s' "$NPM_TOKEN" > ${JSON.stringify(join(dir, "token"))}`,
      'while [ $# -gt 0 ]; do if [ "$1" = --env-file ]; then cat "$2" > ' + JSON.stringify(join(dir, "env-file")) + "; fi; shift; done",
      "",
    ].join("\n"),
  );
  await chmod(join(dir, "docker"), 0o755);
  return {
    env: { PATH: `${dir}:${process.env["PATH"] ?? ""}` },
    argv: async () => (await readFile(join(dir, "argv"), "utf8")).trimEnd().split("\n"),
    envFile: () => readFile(join(dir, "env-file"), "utf8"),
    token: () => readFile(join(dir, "token"), "utf8"),
  };
}

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "batchship-run-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("docker and podman runs", () => {
  it("hand the environment over in a file, never in argv, and apply the definition's vCPUs and memory", async () => {
    const docker = await recordingDocker();
    const tool = createDockerTool("docker", docker.env);
    const outcome = await tool.run({
      image: "127.0.0.1:5000/etl@sha256:" + "a".repeat(64),
      insecure: true,
      command: ["run"],
      environment: { DB_PASSWORD: "hunter2", AWS_BATCH_JOB_ARRAY_INDEX: "0" },
      resources: { vcpus: 0.5, memoryMiB: 2048 },
      scratchDir: await scratch(),
      name: "batchship-test-0-1",
      logFile: join(await scratch(), "log"),
      signal: new AbortController().signal,
    });

    expect(outcome.code).toBe(0);
    const argv = await docker.argv();
    expect(argv.join(" ")).not.toContain("hunter2");
    expect(argv).toEqual(expect.arrayContaining(["--env-file", "--cpus", "0.5", "--memory", "2048m"]));
    expect(argv.slice(argv.indexOf("--"))).toEqual(["--", "127.0.0.1:5000/etl@sha256:" + "a".repeat(64), "run"]);
    expect(await docker.envFile()).toBe("DB_PASSWORD=hunter2\nAWS_BATCH_JOB_ARRAY_INDEX=0\n");
  });

  it("refuses a value that spans lines, which an environment file cannot hold", async () => {
    const tool = createDockerTool("podman", (await recordingDocker()).env);
    const run = tool.run({
      image: "127.0.0.1:5000/etl@sha256:" + "a".repeat(64),
      insecure: true,
      command: undefined,
      environment: { CERT: "line one\nline two" },
      resources: {},
      scratchDir: await scratch(),
      name: "batchship-test-0-2",
      logFile: join(await scratch(), "log"),
      signal: new AbortController().signal,
    });
    await expect(run).rejects.toMatchObject({ code: "SPEC_INVALID", message: expect.stringContaining("environment variable CERT spans several lines") });
  });
});

describe("docker and podman builds", () => {
  it("name build arguments in argv and hand their values over in the tool's environment, even a PATH", async () => {
    const docker = await recordingDocker();
    const tool = createDockerTool("docker", docker.env);
    const outcome = await tool.build({
      contextDir: "/src",
      dockerfile: "/src/Dockerfile",
      tags: ["127.0.0.1:5000/etl:abc"],
      // A build argument named PATH must not change which docker runs.
      buildArgs: { NPM_TOKEN: "npm_s3cret", PATH: "/nowhere" },
      logFile: join(await scratch(), "log"),
      timeoutMs: 10_000,
    });

    expect(outcome.code).toBe(0);
    const argv = await docker.argv();
    expect(argv.join(" ")).not.toContain("npm_s3cret");
    expect(argv.join(" ")).not.toContain("/nowhere");
    expect(argv).toEqual(["build", "--file", "/src/Dockerfile", "--tag", "127.0.0.1:5000/etl:abc", "--build-arg", "NPM_TOKEN", "--build-arg", "PATH", "--", "/src"]);
    expect(await docker.token()).toBe("npm_s3cret");
  });

  it("reports a tool missing from its own PATH as missing, never looking for it on a PATH among the values", async () => {
    const docker = await recordingDocker();
    const tool = createDockerTool("docker", { PATH: "/nonexistent" });
    const outcome = await tool.build({
      contextDir: "/src",
      dockerfile: "/src/Dockerfile",
      tags: ["127.0.0.1:5000/etl:abc"],
      buildArgs: { PATH: docker.env["PATH"] ?? "" },
      logFile: join(await scratch(), "log"),
      timeoutMs: 10_000,
    });
    expect(outcome).toMatchObject({ missing: true, code: undefined });
  });
});
