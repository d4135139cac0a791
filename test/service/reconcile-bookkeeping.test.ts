import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BatchshipError } from "../../src/errors.js";
import type { ReleaseLedger } from "../../src/release/gitops/ledger.js";
import type { ReleaseRecord } from "../../src/release/gitops/record.js";
import { reconcilePipeline } from "../../src/release/gitops/reconcile.js";
import type { EngineContext } from "../../src/release/context.js";
import { TAG } from "../../src/release/tags.js";
import { createLogger } from "../../src/server/logger.js";
import { createBackends } from "../../src/service/backends.js";
import { readServiceConfig } from "../../src/service/config.js";
import { readiness } from "../../src/service/readiness.js";
import { createReconciler, type Reconciler } from "../../src/service/reconciler.js";
import { openStore, type Store } from "../../src/store/index.js";
import { createBareRemote, RELEASES, type BareRemote } from "../gitops/git-remote.js";
import { gitopsEngine, gitopsPipeline } from "../gitops/gitops-harness.js";
import { randomSha, startEngineHarness, type EngineHarness } from "../release/harness.js";
import { until } from "../support/until.js";

const STALLED = "g-stalled-store";
const STOPPED = "g-stopped-between";
const LOST = "g-lost-end";

let h: EngineHarness;
let remotes: BareRemote[] = [];
let stalled: Reverted;
let stopped: Reverted;
let lost: Reverted;
beforeAll(async () => {
  // A records repository each, so the two are made at once.
  [h, ...remotes] = await Promise.all([startEngineHarness([STALLED, STOPPED, LOST]), createBareRemote(), createBareRemote(), createBareRemote()]);
  [stalled, stopped, lost] = await Promise.all([revertedPipeline(STALLED, remotes[0]), revertedPipeline(STOPPED, remotes[1]), revertedPipeline(LOST, remotes[2])]);
}, 60_000);
afterAll(async () => {
  await h?.close();
  await Promise.all(remotes.map((r) => r.remove()));
});

let store: Store | undefined;
let reconciler: Reconciler | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await reconciler?.stop(1_000);
  await store?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

type Reverted = Awaited<ReturnType<typeof revertedPipeline>>;

/**
 * A GitOps pipeline whose production ran A, then B, each promoted by a record merged into the
 * releases branch and reconciled (promotion by pull request); then a person's `git revert` of B's
 * record goes back to A. Cheaper than two releases with builds and canaries, and the same to reconcile.
 */
async function revertedPipeline(name: string, remote: BareRemote | undefined) {
  if (remote === undefined) throw new Error("no records repository");
  const spec = gitopsPipeline(name, remote.url);
  const ledger = await remote.ledger();
  const { ctx } = gitopsEngine(h, ledger);
  const promoteByRecord = async () => {
    const record = handWrittenRecord(name);
    await ledger.update(name, async () => ({ record, subject: `Promote ${name} to ${record.releaseId}` }));
    expect(await reconcilePipeline(ctx, spec, "a pull request")).toMatchObject({ action: "registered", kind: "promotion" });
    return record;
  };
  const a = await promoteByRecord();
  const b = await promoteByRecord();
  const [recordOfB] = await remote.log(`releases/${name}.json`);
  const person = await remote.personClone();
  await person.git.raw(["revert", "--no-edit", recordOfB?.sha ?? ""]);
  await person.git.push("origin", RELEASES);
  return { spec, ledger, ctx, a, b, remote };
}

function handWrittenRecord(pipeline: string): ReleaseRecord {
  const commit = randomSha();
  const digest = `sha256:${randomBytes(32).toString("hex")}`;
  return {
    apiVersion: "batchship/v1",
    kind: "ReleaseRecord",
    pipeline,
    releaseId: `${pipeline}-${commit.slice(0, 12)}`,
    commit,
    image: { uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${pipeline}@${digest}`, digest },
    candidate: null,
    canary: null,
    jobDefinition: {
      name: pipeline,
      body: { type: "container", containerProperties: { command: ["run"], resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "256" }] } },
      tags: {},
    },
    promotedBy: "alice",
    promotedAt: new Date().toISOString(),
    rollbackOf: null,
  };
}

/**
 * A real store on a data dir of its own, whose writes of a reconcile's end fail while `stall.on`
 * (the store busy past its timeout), and reconcilers on it as the service makes them.
 */
async function stallingService(ctx: EngineContext, ledger: ReleaseLedger) {
  dataDir = await mkdtemp(join(tmpdir(), "batchship-reconcile-bookkeeping-"));
  const real = openStore(join(dataDir, "batchship.sqlite"));
  store = real;
  const stall = { on: true };
  const busy = () => Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
  const flaky: Store = {
    ...real,
    reconciles: {
      ...real.reconciles,
      markDone: (...args) => {
        if (stall.on) throw busy();
        return real.reconciles.markDone(...args);
      },
      retryLater: (...args) => {
        if (stall.on) throw busy();
        return real.reconciles.retryLater(...args);
      },
      markFailed: (...args) => {
        if (stall.on) throw busy();
        return real.reconciles.markFailed(...args);
      },
    },
  };
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>), level: "debug" });
  const config = readServiceConfig({ pipelines: "pipelines", pollInterval: "0.01" }, { BATCHSHIP_WEBHOOK_SECRET: "test-secret", BATCHSHIP_ALLOW_SHORT_INTERVALS: "1" });
  const backends = createBackends(() => ctx.backend);
  const startReconciler = (wakeWorkers: () => void, start = true): Reconciler => {
    const made = createReconciler({ config, clock: () => Date.now(), logger, store: flaky, backends, ledgerFor: async () => ledger }, { retryMs: 10, tickMs: 10, wakeWorkers });
    if (start) made.start();
    return made;
  };
  return { real, stall, logs, startReconciler };
}


const productionRegistrations = (name: string, since: number) =>
  h.emulator.calls.slice(since).filter((c) => c.forwarded && c.operation === "RegisterJobDefinition" && c.input.jobDefinitionName === name).length;

describe("a reconcile whose own bookkeeping fails", () => {
  it("holds its pipeline, and readiness names it, until its end is written; it ends as the reconcile said, registering once, and the next release is claimed", async () => {
    const { spec, ledger, ctx, a, remote } = stalled;
    const { real, stall, logs, startReconciler } = await stallingService(ctx, ledger);
    let wakes = 0;
    reconciler = startReconciler(() => wakes++, false);

    const specJson = JSON.stringify(spec);
    const id = real.reconciles.enqueue({ pipeline: STALLED, specJson, deliveryId: "d-revert" }, Date.now());
    const next = `${STALLED}-${randomSha().slice(0, 12)}`;
    real.releases.enqueue({ id: next, pipeline: STALLED, repository: "acme/app", commit: randomSha(), branch: "main", cloneUrl: "https://github.com/acme/app.git", specJson, deliveryId: "d-next" }, Date.now());
    const since = h.emulator.calls.length;
    reconciler.start();

    // It acted on Batch, then could not write its end: tried again, with a growing pause.
    const failures = await until("two failed writes of the reconcile's end", () => {
      const failed = logs.filter((l) => l.msg === "could not record the reconcile's end; trying again shortly");
      return failed.length >= 2 ? failed : undefined;
    });
    expect(failures[0]).toMatchObject({ level: "error", reconcileId: id, pipeline: STALLED, ending: "done", action: "registered", kind: "rollback", error: "database is locked" });
    expect(Number(failures[1]?.retryInMs)).toBeGreaterThan(Number(failures[0]?.retryInMs));
    expect(real.reconciles.get(id)).toMatchObject({ status: "running", attempts: 1 });
    // Its pipeline stays held: the next release waits.
    expect(real.holds.blocking("release").get(STALLED)).toBe("a reconcile is running");
    expect(real.releases.claimNext(Date.now())).toBeUndefined();
    const ready = readiness({ store: real.health(), pipelines: { specs: new Map(), problems: [], kept: [], files: new Map(), loadedAt: 1 }, accepting: true, unrecordedReconciles: reconciler.unrecorded() });
    expect(ready.warnings).toContainEqual(expect.stringMatching(new RegExp(`^reconcile ${id} of pipeline ${STALLED} ended \\(done\\) but recording its end has failed \\d+ times since .*; retrying, and pipeline ${STALLED} waits for it$`)));
    expect(ready.warnings.join("\n")).not.toContain(dataDir);

    const wakesBefore = wakes;
    stall.on = false;
    const ended = await until("the reconcile's end to be written", () => {
      const row = real.reconciles.get(id);
      return row?.status === "running" ? undefined : row;
    });

    // As the reconcile said: production went back to A once, and automatic promotion is held once.
    expect(ended).toMatchObject({ status: "done", attempts: 1, lastError: null });
    expect(JSON.parse(ended.resultJson ?? "{}")).toMatchObject({ action: "registered", kind: "rollback", record: { releaseId: a.releaseId }, hold: { by: expect.stringContaining("batchship serve") } });
    expect(productionRegistrations(STALLED, since)).toBe(1);
    expect(await remote.log(`releases/${STALLED}.hold.json`)).toHaveLength(1);
    const [newest] = await ctx.backend.platform.listJobDefinitionRevisions(STALLED);
    expect(newest?.tags[TAG.release]).toBe(a.releaseId);
    expect(logs.filter((l) => l.msg === "reconcile started")).toHaveLength(1);
    expect(logs.filter((l) => l.msg === "reconcile finished")).toEqual([expect.objectContaining({ reconcileId: id, action: "registered", kind: "rollback", held: true })]);

    // Written, it holds its pipeline no more: the workers are woken, and the next release is claimed.
    expect(wakes).toBeGreaterThan(wakesBefore);
    expect(real.holds.blocking("release").has(STALLED)).toBe(false);
    expect(real.releases.claimNext(Date.now())?.release.id).toBe(next);
    expect(reconciler.unrecorded()).toEqual([]);
  }, 60_000);
  it("stopped while its end is not written, it runs again on the next start, registering nothing more, and ends in sync", async () => {
    const { spec, ledger, ctx, a, remote } = lost;
    const { real, stall, logs, startReconciler } = await stallingService(ctx, ledger);
    const id = real.reconciles.enqueue({ pipeline: LOST, specJson: JSON.stringify(spec), deliveryId: "d-revert" }, Date.now());
    const since = h.emulator.calls.length;
    const first = startReconciler(() => undefined);
    await until("a failed write of the reconcile's end", () => logs.find((l) => l.msg === "could not record the reconcile's end; trying again shortly"));

    // The service stops: one last try, refused too; its end is lost with the process, its row left running.
    await first.stop(1_000);
    expect(logs.find((l) => l.msg === "could not record the reconcile's end; it runs again on the next start")).toMatchObject({ level: "warn", reconcileId: id, ending: "done" });
    expect(first.unrecorded()).toEqual([]);
    const linesAtStop = logs.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(logs.length).toBe(linesAtStop);
    expect(real.reconciles.get(id)).toMatchObject({ status: "running", attempts: 1 });

    stall.on = false;
    reconciler = startReconciler(() => undefined);
    const ended = await until("the reconcile to end", () => {
      const row = real.reconciles.get(id);
      return row?.status === "done" ? row : undefined;
    });
    expect(ended).toMatchObject({ attempts: 2 });
    expect(JSON.parse(ended.resultJson ?? "{}")).toMatchObject({ action: "in-sync", record: { releaseId: a.releaseId }, hold: { by: expect.stringContaining("batchship serve") } });
    expect(productionRegistrations(LOST, since)).toBe(1);
    expect(await remote.log(`releases/${LOST}.hold.json`)).toHaveLength(1);
    expect(real.holds.blocking("release").has(LOST)).toBe(false);
  }, 60_000);
});

describe("a reconcile stopped between its steps and run again", () => {
  it("moves production back once and holds automatic promotion, whether it stopped before its hold or before its registration", async () => {
    const { spec, ledger, ctx, a, b, remote } = stopped;
    const holdFile = `releases/${STOPPED}.hold.json`;
    const newestRelease = async (c: EngineContext) => (await c.backend.platform.listJobDefinitionRevisions(STOPPED))[0]?.tags[TAG.release];
    const since = h.emulator.calls.length;

    // The records repository cannot be written (its push fails past the ledger's own retries): the hold is not written.
    const unwritable: ReleaseLedger = {
      ...ledger,
      update: async () => {
        throw new BatchshipError("GIT", `Could not push the release record of ${STOPPED}: the remote is read-only`, { retryable: true });
      },
    };
    await expect(reconcilePipeline({ ...ctx, ledger: unwritable }, spec, "the service")).rejects.toMatchObject({ code: "GIT" });
    // Nothing moved without its hold.
    expect(await newestRelease(ctx)).toBe(b.releaseId);
    expect(await remote.log(holdFile)).toEqual([]);

    // Batch refuses the registration (past the engine's retries): the hold is written, production not moved yet.
    h.emulator.faults.throttle("RegisterJobDefinition", 20, "500");
    await expect(reconcilePipeline(ctx, spec, "the service")).rejects.toMatchObject({ retryable: true });
    h.emulator.faults.clear();
    expect(await newestRelease(ctx)).toBe(b.releaseId);
    expect(await remote.log(holdFile)).toHaveLength(1);

    const reconciled = await reconcilePipeline(ctx, spec, "the service");
    expect(reconciled).toMatchObject({ action: "registered", kind: "rollback", record: { releaseId: a.releaseId }, hold: { by: "the service" } });
    expect(await reconcilePipeline(ctx, spec, "the service")).toMatchObject({ action: "in-sync", hold: { by: "the service" } });
    expect(productionRegistrations(STOPPED, since)).toBe(1);
    expect(await remote.log(holdFile)).toHaveLength(1);
    expect(await newestRelease(ctx)).toBe(a.releaseId);
  }, 60_000);
});
