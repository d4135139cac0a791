/**
 * AWS calls of one release (build to promotion, retention included) on a pipeline whose job
 * definition names have 3 revisions of history, beside one whose names have 10,000 (or
 * BENCH_HISTORY), in one run against the emulator (moto behind the test layer, which pages
 * DescribeJobDefinitions 100 at a time, oldest first). Three times: in a new process with nothing
 * saved (the Action on a fresh runner without its cache), which knows no name yet and reads the
 * hint revision 1 carries (production's in the candidate lookup's first call); in a process that
 * has seen the names (the service, the next release); and in a new process with the numbers an
 * earlier one saved (the service after a restart; the CLI and the Action with their cache file).
 * Also what reading a name's whole ACTIVE history costs, which is what every lookup of a release
 * cost before.
 * Run with `npm run bench:history`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAwsBackend } from "../src/aws/index.js";
import { createEngineContext } from "../src/release/context.js";
import { runRelease } from "../src/release/run-release.js";
import { TAG } from "../src/release/tags.js";
import { openStore } from "../src/store/index.js";
import { createFixtures, startEmulator, testClientConfig, type Emulator } from "../test/emulator/index.js";
import { seedJobDefinitionHistory } from "../test/emulator/job-definition-history.js";
import { randomSha } from "../test/release/harness.js";
import { makeSpec } from "../test/support/spec.js";
import { virtualTime } from "../test/support/virtual-time.js";
import { byOperation } from "./batch-calls.js";

const LONG = Number(process.env["BENCH_HISTORY"] ?? 10_000);
const SHORT = 3;

async function seed(emulator: Emulator, name: string, count: number): Promise<void> {
  // Every revision a release of its own, all ACTIVE: a name as it grows without retention.
  const tags = (n: number) => ({ [TAG.release]: `${name}-${n}`, [TAG.canary]: "passed" });
  // One at a time: moto fails registrations that run concurrently. Revision 1 holds the newest
  // number, as the AWS backend leaves a name it registers to.
  await seedJobDefinitionHistory(emulator.motoEndpoint, `${name}-canary`, { count, active: count, tags, anchor: true });
  await seedJobDefinitionHistory(emulator.motoEndpoint, name, { count, active: count, tags, anchor: true });
}

async function main(): Promise<void> {
  const emulator = await startEmulator();
  // The service's store, where the processes save the newest numbers they see.
  const dir = mkdtempSync(join(tmpdir(), "batchship-bench-history-"));
  const store = openStore(join(dir, "batchship.sqlite"));
  try {
    await createFixtures(emulator, { jobQueues: ["short", "long"], codebuildProject: "etl-image" });
    const seeding = performance.now();
    await seed(emulator, "short", SHORT);
    await seed(emulator, "long", LONG);
    console.log(`seeded ${SHORT} and ${LONG} revisions per name in ${((performance.now() - seeding) / 1000).toFixed(0)} s`);

    const release = async (backend: ReturnType<typeof createAwsBackend>, name: string) => {
      const time = virtualTime();
      const ctx = createEngineContext(backend, { clock: time.clock, sleep: time.sleep, polling: { buildIntervalMs: 10_000, canaryIntervalMs: 15_000, retryDelayMs: 1_000 } });
      const spec = makeSpec({ name, image: { repository: name }, jobDefinition: { name }, canary: { jobQueue: name }, retention: { candidates: 90, production: 90 } });
      const start = emulator.calls.length;
      const result = await runRelease(ctx, { spec, commit: randomSha(), branch: "main" });
      if (result.status !== "promoted") throw new Error(`the release on ${name} ended ${result.status}: ${result.error?.message ?? ""}`);
      return byOperation(emulator.calls.slice(start).filter((c) => c.forwarded && c.service === "batch"));
    };
    const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    const row = (label: string, a: number | string, b: number | string) => `  ${label.padEnd(26)}${String(a).padStart(14)}${String(b).padStart(16)}`;
    const table = (title: string, short: Record<string, number>, long: Record<string, number>) => {
      console.log(`\n${title}`);
      console.log(row("", `${SHORT} revisions`, `${LONG} revisions`));
      for (const operation of [...new Set([...Object.keys(short), ...Object.keys(long)])].sort()) console.log(row(operation, short[operation] ?? 0, long[operation] ?? 0));
      console.log(row("total", total(short), total(long)));
    };

    // A new process for each name: nothing seen or saved yet. Then the next release in the same
    // process. Then a new process that finds what those saved.
    const newProcess = () => createAwsBackend(testClientConfig(emulator), { revisionHints: store.revisionHints });
    const shortProcess = newProcess();
    const longProcess = newProcess();
    const firstShort = await release(shortProcess, "short");
    const firstLong = await release(longProcess, "long");
    const nextShort = await release(shortProcess, "short");
    const nextLong = await release(longProcess, "long");
    await store.batched(() => undefined);
    const restartedShort = await release(newProcess(), "short");
    const restartedLong = await release(newProcess(), "long");
    table("Batch calls of one release in a new process with nothing saved (build, candidate, canary, promotion, retention)", firstShort, firstLong);
    table("Batch calls of the next release in the same process", nextShort, nextLong);
    table("Batch calls of one release in a new process with what an earlier one saved", restartedShort, restartedLong);

    const listing = async (name: string) => {
      const start = emulator.calls.length;
      await createAwsBackend(testClientConfig(emulator)).platform.listJobDefinitionRevisions(name);
      return emulator.calls.slice(start).filter((c) => c.forwarded).length;
    };
    console.log("\nReading a name's whole ACTIVE history (every lookup, before), DescribeJobDefinitions calls");
    console.log(row("<name>-canary", await listing("short-canary"), await listing("long-canary")));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    await emulator.close();
  }
}

await main();
