import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRelease } from "../../src/release/run-release.js";
import type { PipelineSpec } from "../../src/spec/schema.js";
import { startLocalHarness, type LocalHarness } from "./harness.js";

// Real builds with buildah, a real registry and real containers.
const SLOW = 120_000;

let h: LocalHarness;
beforeAll(async () => {
  h = await startLocalHarness();
}, SLOW);
afterAll(async () => h?.close());

/**
 * An image with a shell and no entrypoint, so the definition's command is what runs. A build
 * argument's value ends up in a file of the image, so a child can show that the build saw it.
 */
const SHELL_IMAGE = [
  "FROM scratch",
  "COPY busybox /bin/busybox",
  "ARG BUILD_SECRET",
  // One step: each step of a vfs build copies the whole image.
  'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && echo \\"$BUILD_SECRET\\" > /build-secret"]',
  "ENV PATH=/bin",
  "",
].join("\n");

// Child 0 runs for a while; child 1, meanwhile, looks at every command line it can see for
// child 0's index as buildah's argv carries it (a pattern that does not match itself), and
// counts the processes it sees. Both print the values they were given.
const PROBE = [
  'echo "child-secret=$CHILD_SECRET build-secret=$(cat /build-secret) empty=[${EMPTY-unset}]"',
  'if [ "$AWS_BATCH_JOB_ARRAY_INDEX" = 0 ]; then sleep 6; else sleep 2; fi',
  'seen=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " " | grep -c "AWS_BATCH_JOB_ARRAY_INDEX[=]0")',
  'echo "other-child-argv-seen=$seen"',
  'echo "processes=$(ls -d /proc/[0-9]* | wc -l)"',
].join("; ");

/** Every command line on this machine, read again and again until stopped, as `ps` would show them. */
function watchCommandLines(): { stop: () => string[] } {
  const seen = new Set<string>();
  const look = () => {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        seen.add(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" "));
      } catch {
        // ended meanwhile
      }
    }
  };
  const timer = setInterval(look, 20);
  return {
    stop: () => {
      clearInterval(timer);
      return [...seen];
    },
  };
}

describe("isolation of canary children on buildah", () => {
  it(
    "keeps build arguments and environment values out of every command line, runs each child in a PID namespace of its own, and says what became of its limits",
    { timeout: SLOW },
    async () => {
      const buildSecret = `build-${randomUUID()}`;
      // buildah must hand it over as it is, not expand it.
      const childSecret = `child-$HOME-${randomUUID()}`;
      const base = h.spec("isolated", {
        canary: { arraySize: 2 },
        jobDefinition: {
          containerProperties: {
            command: ["sh", "-c", PROBE],
            environment: [
              { name: "CHILD_SECRET", value: childSecret },
              { name: "EMPTY", value: "" },
            ],
            resourceRequirements: [
              { type: "VCPU", value: "1" },
              { type: "MEMORY", value: "512" },
            ],
          },
          parameters: {},
        },
      });
      const spec: PipelineSpec = { ...base, image: { ...base.image, dockerfile: "isolated/Dockerfile", buildArgs: { BUILD_SECRET: buildSecret } } };
      const commit = await h.repo.commit({ "isolated/Dockerfile": SHELL_IMAGE });

      const watcher = watchCommandLines();
      const result = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });
      const commandLines = watcher.stop();

      expect(result.error).toBeUndefined();
      expect(result.status).toBe("promoted");
      // The watcher did see the build and the children run, by their flags and names...
      expect(commandLines.some((line) => / bud .*--build-arg BUILD_SECRET /.test(line))).toBe(true);
      expect(commandLines.filter((line) => / run --isolation chroot -- batchship-/.test(line)).length).toBeGreaterThanOrEqual(2);
      // ...and never their values.
      expect(commandLines.filter((line) => line.includes(buildSecret) || line.includes(childSecret))).toEqual([]);

      const logs = await Promise.all(
        [0, 1].map(async (index) => readFile((await h.backend.platform.describeJob(`${result.canary?.jobId}:${index}`))?.logStreamName ?? "", "utf8")),
      );
      for (const log of logs) {
        expect(log).toContain(`child-secret=${childSecret} build-secret=${buildSecret} empty=[]`);
        // Held through batchship's own cgroups where the machine lets it make them, else said not to be.
        expect(log.split("\n")[0]).toMatch(/^batchship: (this child's limits|not applied to this child): the job definition's 1 vCPU and 512 MiB of memory \(/);
      }
      const prober = logs[1] ?? "";
      expect(prober).toContain("other-child-argv-seen=0");
      // Its own few (buildah, its chroot helpers, the shell, ls): the host runs hundreds, this test among them.
      const processes = Number(/processes=(\d+)/.exec(prober)?.[1]);
      expect(processes).toBeGreaterThan(0);
      expect(processes).toBeLessThan(12);
    },
  );
});
