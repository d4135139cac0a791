import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rollbackPipeline } from "../../src/release/rollback.js";
import { runRelease } from "../../src/release/run-release.js";
import { pipelineStatus } from "../../src/release/status.js";
import { TAG } from "../../src/release/tags.js";
import { runCli } from "../cli/run-cli.js";
import { startLocalHarness, type LocalHarness } from "./harness.js";

// Real builds, a real registry and real containers: seconds per release, not milliseconds.
const SLOW = 120_000;

let h: LocalHarness;
beforeAll(async () => {
  h = await startLocalHarness();
}, SLOW);
afterAll(async () => h?.close());

describe("release on the local backend", () => {
  it("builds, pushes, runs the canary array job in containers and promotes", { timeout: SLOW }, async () => {
    const spec = h.spec("pass");
    const commit = await h.repo.commit(await h.appFiles());
    const { ctx, events } = h.engine();

    const result = await runRelease(ctx, { spec, commit, branch: "main" });

    expect(result.error).toBeUndefined();
    expect(result.status).toBe("promoted");
    expect(result.image?.uri).toBe(`${h.registry.host}/pass@${result.image?.digest}`);
    // The digest is the registry's own.
    const head = await fetch(`http://${h.registry.host}/v2/pass/manifests/${commit}`, {
      method: "HEAD",
      headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" },
    });
    expect(head.headers.get("docker-content-digest")).toBe(result.image?.digest);
    expect(result.canary?.summary.SUCCEEDED).toBe(3);
    expect(result.candidate?.revision).toBe(1);
    expect(result.production?.revision).toBe(1);
    expect(events.some((e) => e.type === "canary-progress")).toBe(true);

    // Each child saw its own index, the parent id, the attempt, and the substituted parameter.
    const children = await h.backend.platform.listChildren(result.canary?.jobId ?? "", { status: "SUCCEEDED" });
    expect(children.map((c) => c.jobId).sort()).toEqual([0, 1, 2].map((i) => `${result.canary?.jobId}:${i}`));
    for (const child of children) {
      const index = child.jobId.split(":")[1];
      const log = await readFile(child.logStreamName ?? "", "utf8");
      expect(log).toContain(`child ${index} of ${child.jobId}, attempt 1: hello`);
    }

    const again = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
    expect(again.status).toBe("promoted");
    expect(again.production?.revision).toBe(1);
    expect(again.stages.find((s) => s.stage === "build")?.outcome).toBe("reused");
    expect(again.canary?.jobId).toBe(result.canary?.jobId);
  });

  it("fails the canary when one child exits non-zero, shows its output, and promotes nothing", { timeout: SLOW }, async () => {
    const spec = h.spec("fail", { canary: { environment: { FAIL_INDEX: "1" } } });
    const commit = await h.repo.commit({ "fail.txt": "1" });

    const result = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });

    expect(result.status).toBe("failed");
    expect(result.error?.code).toBe("CANARY_FAILED");
    expect(result.production).toBeNull();
    expect(result.canary?.failedChildren).toHaveLength(1);
    const [child] = result.canary?.failedChildren ?? [];
    expect(child?.jobId).toBe(`${result.canary?.jobId}:1`);
    expect(child?.exitCode).toBe(3);
    expect(child?.statusReason).toContain("child 1 fails on purpose");
    expect(await h.backend.platform.listJobDefinitionRevisions("fail")).toEqual([]);
    const [candidate] = await h.backend.platform.listJobDefinitionRevisions("fail-canary");
    expect(candidate?.tags[TAG.canary]).toBe("failed");

    // `batchship logs --failed` reads the failed child's log file, through the built CLI.
    await h.repo.commit({ "fail.yml": failPipelineYaml(h.registry.host) });
    const logs = await runCli(["logs", "-p", join(h.repo.dir, "fail.yml"), "--release", `fail-${commit.slice(0, 12)}`, "--failed", "--json"], {
      BATCHSHIP_STATE_DIR: h.stateDir,
    });
    expect(logs.code, logs.stderr).toBe(0);
    const lines = logs.stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.length).toBeGreaterThan(0);
    // The canary is stopped once it cannot pass: a child still running then fails too, and is shown.
    const failed = (await h.backend.platform.listChildren(result.canary?.jobId ?? "", { status: "FAILED" })).map((c) => Number(c.jobId.split(":").pop()));
    expect(failed).toContain(1);
    for (const line of lines) {
      expect(failed).toContain(line.index);
      expect(line.stream).toMatch(new RegExp(`/${line.index}\\.attempt-1\\.log$`));
    }
    const childOne = lines.filter((line) => line.index === 1).map((line) => line.message);
    expect(childOne.join("\n")).toContain("child 1 fails on purpose");
  });

  it("kills a child past timeout.attemptDurationSeconds and counts it failed, without a retry", { timeout: SLOW }, async () => {
    const parsed = h.spec("slow", {
      canary: { arraySize: 2, environment: { SLOW_INDEX: "0", SLOW_SECONDS: "300" } },
      jobDefinition: { timeout: { attemptDurationSeconds: 60 }, retryStrategy: { attempts: 2 } },
    });
    // The spec holds Batch's minimum of 60 s; the runner under test takes any limit, and 3 s keeps
    // this test short.
    const spec = { ...parsed, jobDefinition: { ...parsed.jobDefinition, timeout: { attemptDurationSeconds: 3 } } };
    const commit = await h.repo.commit({ "slow.txt": "1" });
    const started = Date.now();

    const result = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });

    expect(Date.now() - started).toBeLessThan(60_000);
    expect(result.status).toBe("failed");
    const [child] = result.canary?.failedChildren ?? [];
    expect(child?.jobId).toBe(`${result.canary?.jobId}:0`);
    expect(child?.statusReason).toBe("Job attempt duration exceeded timeout");
    expect(child?.logStreamName).toMatch(/0\.attempt-1\.log$/);
  });

  it("retries a failed child per retryStrategy.attempts", { timeout: SLOW }, async () => {
    const spec = h.spec("flaky", {
      canary: { arraySize: 2, environment: { FLAKY_INDEX: "1" } },
      jobDefinition: { retryStrategy: { attempts: 2 } },
    });
    const commit = await h.repo.commit({ "flaky.txt": "1" });

    const result = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });

    expect(result.status).toBe("promoted");
    const child = await h.backend.platform.describeJob(`${result.canary?.jobId}:1`);
    expect(child?.status).toBe("SUCCEEDED");
    expect(child?.logStreamName).toMatch(/1\.attempt-2\.log$/);
    expect(await readFile(child?.logStreamName ?? "", "utf8")).toContain("attempt 2");
  });

  it("builds a new image and candidate for a commit that changes only a source file, and rolls back", { timeout: SLOW }, async () => {
    const spec = h.spec("roll", { canary: { arraySize: 2 } });
    const first = await runRelease(h.engine().ctx, { spec, commit: await h.repo.commit({ "roll.txt": "1" }), branch: "main" });
    const changed = await h.repo.commit(await h.appFiles("a source change"));
    const second = await runRelease(h.engine().ctx, { spec, commit: changed, branch: "main" });

    expect([first.status, second.status]).toEqual(["promoted", "promoted"]);
    expect(second.build).not.toBeNull();
    expect(second.image?.digest).not.toBe(first.image?.digest);
    expect(second.candidate?.revision).toBe((first.candidate?.revision ?? 0) + 1);
    expect(second.production?.revision).toBe(2);

    const { ctx } = h.engine();
    const rolled = await rollbackPipeline(ctx, spec);
    const status = await pipelineStatus(ctx, spec);
    expect(rolled.to.image).toBe(first.image?.uri);
    expect(status.production?.revision).toBe(3);
    expect(status.production?.image).toBe(first.image?.uri);
    expect(status.production?.rollbackOf).not.toBeNull();
  });
});

/** The "fail" pipeline as a file, for the CLI: the same names as `h.spec("fail")`. */
function failPipelineYaml(registryHost: string): string {
  return [
    "apiVersion: batchship/v1",
    "name: fail",
    "source: { repository: example/hello, branches: [main] }",
    `image: { repository: "${registryHost}/fail" }`,
    "build: { backend: local }",
    "jobDefinition: { name: fail, platform: local, containerProperties: { command: ['Ref::greeting'] }, parameters: { greeting: hello } }",
    "canary: { jobQueue: local, arraySize: 3 }",
    "",
  ].join("\n");
}
