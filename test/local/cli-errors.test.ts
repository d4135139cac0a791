import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort } from "../aws/closed-port.js";
import { runCli } from "../cli/run-cli.js";
import { startLocalHarness, type LocalHarness } from "./harness.js";

const SLOW = 90_000;

let h: LocalHarness;
beforeAll(async () => {
  h = await startLocalHarness();
}, SLOW);
afterAll(async () => h?.close());

function pipelineYaml(name: string, repository: string): string {
  return [
    "apiVersion: batchship/v1",
    `name: ${name}`,
    "source: { repository: example/hello, branches: [main] }",
    `image: { repository: "${repository}" }`,
    "build: { backend: local }",
    `jobDefinition: { name: ${name}, platform: local }`,
    "canary: { jobQueue: local, arraySize: 1 }",
    "",
  ].join("\n");
}

async function release(name: string, files: Record<string, string>, env: Record<string, string> = {}) {
  await h.repo.commit({ ...(await h.appFiles()), ...files });
  return runCli(["release", "--pipeline", join(h.repo.dir, `${name}.yml`), "--poll-interval", "1"], {
    BATCHSHIP_STATE_DIR: h.stateDir,
    ...env,
  });
}

/** One clear error: the message and its hint, never a stack trace. */
function expectCleanError(stderr: string, message: RegExp): void {
  expect(stderr).toMatch(message);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe("local backend errors through the CLI", () => {
  it("reports a missing builder with an install hint (exit 3)", { timeout: SLOW }, async () => {
    // A PATH with node and git only: no docker, podman or buildah.
    const bin = await mkdtemp(join(tmpdir(), "batchship-path-"));
    await symlink(process.execPath, join(bin, "node"));
    await symlink(execFileSync("sh", ["-c", "command -v git"]).toString().trim(), join(bin, "git"));
    try {
      const run = await release("nobuilder", { "nobuilder.yml": pipelineYaml("nobuilder", `${h.registry.host}/nobuilder`) }, { PATH: bin });
      expect(run.code).toBe(3);
      expectCleanError(run.stderr, /Could not find a container builder: docker: not installed; podman: not installed; buildah: not installed/);
      expect(run.stderr).toContain("hint: install buildah");
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });

  it("reports an unreachable registry (exit 3)", { timeout: SLOW }, async () => {
    const port = await closedPort();
    const run = await release("noregistry", { "noregistry.yml": pipelineYaml("noregistry", `127.0.0.1:${port}/noregistry`) });
    expect(run.code).toBe(3);
    expectCleanError(run.stderr, new RegExp(`Could not reach the image registry 127\\.0\\.0\\.1:${port}: .*unreachable \\(ECONNREFUSED\\)`));
    expect(run.stderr).toContain("hint: start a registry");
  });

  it("reports a Dockerfile that fails to build with the builder's last lines (exit 1)", { timeout: SLOW }, async () => {
    const run = await release("broken", {
      "broken.yml": pipelineYaml("broken", `${h.registry.host}/broken`),
      Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "echo the step broke >&2; exit 7"]\n',
    });
    expect(run.code).toBe(1);
    expectCleanError(run.stderr, /Build local:[0-9a-f-]+ FAILED in phase BUILD: .*the step broke/);
    expect(run.stderr).toMatch(/hint: build log: .*\.log/);
  });
});
