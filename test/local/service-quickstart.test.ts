import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../emulator/free-port.js";
import { waitFor } from "../service/service-process.js";
import { startRegistry, type TestRegistry } from "./registry.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin", "batchship.js");
// A real service process, a real buildah build, a real registry and three real containers.
const SLOW = 180_000;
const run = promisify(execFile);

/** The quick start's shell blocks in docs/service.md, by the title on their first line. */
async function quickStartBlocks(): Promise<Map<string, string>> {
  const doc = await readFile(join(ROOT, "docs", "service.md"), "utf8");
  const blocks = new Map<string, string>();
  for (const match of doc.matchAll(/```sh\n# quick start: ([^\n(]+)[^\n]*\n([\s\S]*?)```/g)) {
    blocks.set((match[1] ?? "").trim(), match[2] ?? "");
  }
  return blocks;
}

let qs: string;
let registry: TestRegistry;
let service: ChildProcess | undefined;
let serviceOutput = "";
beforeAll(async () => {
  qs = await mkdtemp(join(tmpdir(), "batchship-quickstart-"));
  registry = await startRegistry();
}, SLOW);
afterAll(async () => {
  if (service !== undefined && service.exitCode === null) {
    const exited = new Promise((resolve) => service?.once("exit", resolve));
    service.kill("SIGTERM");
    await exited;
  }
  await registry?.close();
  if (qs !== undefined) await rm(qs, { recursive: true, force: true });
});

describe("the service's quick start on one machine (docs/service.md)", () => {
  it("releases a pushed commit with the local backend, from the service's mirror, to promotion", { timeout: SLOW }, async () => {
    const blocks = await quickStartBlocks();
    expect([...blocks.keys()]).toEqual(["a registry", "the app, in a git repository of its own", "the pipeline", "the service", "a signed push", "watch it"]);
    const port = await freePort();
    // The test's own registry and a free port instead of the doc's fixed ones; nothing else changes.
    const local = (block: string) => block.replaceAll("127.0.0.1:5000", registry.host).replaceAll("8080", String(port));
    const env = { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", QS: qs };
    const sh = (title: string) => run("bash", ["-euo", "pipefail", "-c", local(blocks.get(title) ?? "")], { cwd: ROOT, env });

    await sh("the app, in a git repository of its own");
    await sh("the pipeline");
    // `batchship` is the checkout's binary; exec keeps the service the shell's own process.
    service = spawn("bash", ["-euc", `batchship() { exec "$NODE" "$BIN" "$@"; }\n${local(blocks.get("the service") ?? "")}`], {
      cwd: ROOT,
      env: { ...env, NODE: process.execPath, BIN },
      stdio: ["ignore", "pipe", "pipe"],
    });
    service.stdout?.setEncoding("utf8").on("data", (chunk: string) => (serviceOutput += chunk));
    service.stderr?.setEncoding("utf8").on("data", (chunk: string) => (serviceOutput += chunk));
    await waitFor("the service to answer", () =>
      fetch(`http://127.0.0.1:${port}/readyz`).then((r) => (r.ok ? true : undefined), () => undefined),
    );

    const pushed = JSON.parse((await sh("a signed push")).stdout) as { releases?: Array<{ id?: string } | string> };
    const commit = (await run("git", ["-C", join(qs, "app"), "rev-parse", "HEAD"])).stdout.trim();
    expect(JSON.stringify(pushed.releases)).toContain(`hello-${commit.slice(0, 12)}`);

    type Listed = { releases: Array<{ id: string; status: string; error?: { message: string } | null }> };
    const finished = await waitFor(
      "the release to finish",
      async () => {
        const listed = JSON.parse((await sh("watch it")).stdout) as Listed;
        const release = listed.releases[0];
        return release !== undefined && release.status !== "queued" && release.status !== "running" ? release : undefined;
      },
      SLOW - 30_000,
      500,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${serviceOutput.slice(-4000)}`);
    });
    expect(finished.error ?? null, serviceOutput.slice(-4000)).toBeNull();
    expect(finished.status).toBe("promoted");

    // The image was built from the commit and pushed to the registry under its sha.
    const tags = (await (await fetch(`http://${registry.host}/v2/hello/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toContain(commit);
    // The commit came in through the service's own mirror, which the build reads.
    const [mirror] = (await readdir(join(qs, "data", "mirrors"))).filter((name) => name.endsWith(".git"));
    expect((await run("git", ["-C", join(qs, "data", "mirrors", mirror ?? "none"), "cat-file", "-t", commit], { env })).stdout.trim()).toBe("commit");
    expect(serviceOutput).not.toContain("quickstart-secret");
  });
});
