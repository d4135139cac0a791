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

/** An image with a shell and no entrypoint, so the definition's command is what runs. */
const SHELL_IMAGE = 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nENV PATH=/bin\n';

// Child 0 runs for a while; child 1, meanwhile, looks at every command line it can see for
// child 0's index as buildah's argv carries it (a pattern that does not match itself), and
// counts the processes it sees.
const PROBE = [
  'if [ "$AWS_BATCH_JOB_ARRAY_INDEX" = 0 ]; then sleep 6; else sleep 2; fi',
  'seen=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " " | grep -c "AWS_BATCH_JOB_ARRAY_INDEX[=]0")',
  'echo "other-child-argv-seen=$seen"',
  'echo "processes=$(ls -d /proc/[0-9]* | wc -l)"',
].join("; ");

describe("isolation of canary children on buildah", () => {
  it("runs each child in a PID namespace of its own: it sees neither the host's processes nor another child's command line", { timeout: SLOW }, async () => {
    const base = h.spec("isolated", {
      canary: { arraySize: 2 },
      jobDefinition: { containerProperties: { command: ["sh", "-c", PROBE] }, parameters: {} },
    });
    const spec: PipelineSpec = { ...base, image: { ...base.image, dockerfile: "isolated/Dockerfile" } };
    const commit = await h.repo.commit({ "isolated/Dockerfile": SHELL_IMAGE });

    const result = await runRelease(h.engine().ctx, { spec, commit, branch: "main" });

    expect(result.error).toBeUndefined();
    expect(result.status).toBe("promoted");
    const prober = await h.backend.platform.describeJob(`${result.canary?.jobId}:1`);
    const log = await readFile(prober?.logStreamName ?? "", "utf8");
    expect(log).toContain("other-child-argv-seen=0");
    // Its own few (buildah, its chroot helpers, the shell, ls): the host runs hundreds, this test among them.
    const processes = Number(/processes=(\d+)/.exec(log)?.[1]);
    expect(processes).toBeGreaterThan(0);
    expect(processes).toBeLessThan(12);
  });
});
