import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BatchshipError } from "../../src/errors.js";
import { lockDataDir, type DataDirLock } from "../../src/service/data-dir-lock.js";
import { SECRET, createServiceDirs, type ServiceDirs } from "./service-fixture.js";
import { killHard, spawnServiceProcess, startServiceProcess, stopGracefully, type ServiceProcess } from "./service-process.js";

describe("the data-dir lock", () => {
  let root: string;
  const held: DataDirLock[] = [];
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "batchship-lock-"));
  });
  afterEach(() => {
    for (const lock of held.splice(0)) lock.release();
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const refusal = (fn: () => unknown): BatchshipError => {
    try {
      fn();
    } catch (error) {
      if (error instanceof BatchshipError) return error;
      throw error;
    }
    throw new Error("expected the lock to be refused");
  };

  it("is taken once per data dir (creating the folder), refused while held, and free again once released", () => {
    const dataDir = join(root, "a", "data");
    const lock = lockDataDir(dataDir);
    held.push(lock);
    expect(lock.path).toBe(join(dataDir, "batchship.lock"));

    const refused = refusal(() => held.push(lockDataDir(dataDir)));
    expect(refused.code).toBe("ENVIRONMENT");
    expect(refused.exitCode).toBe(3);
    expect(refused.message).toBe(`Another batchship serve is running on the data dir ${dataDir}`);
    expect(refused.hint).toMatch(/one service per data dir/);

    // Another data dir is another lock.
    held.push(lockDataDir(join(root, "b")));

    lock.release();
    lock.release();
    held.push(lockDataDir(dataDir));
  });

  it("leaves only its lock file in the data dir, no journal beside it", async () => {
    const dataDir = join(root, "c");
    held.push(lockDataDir(dataDir));
    refusal(() => held.push(lockDataDir(dataDir)));
    expect(await readdir(dataDir)).toEqual(["batchship.lock"]);
  });

  it("a data dir that cannot be a folder is an ENVIRONMENT error naming it", async () => {
    const file = join(root, "not-a-dir");
    await writeFile(file, "x");
    const refused = refusal(() => held.push(lockDataDir(file)));
    expect(refused.code).toBe("ENVIRONMENT");
    expect(refused.message).toContain(`Could not lock the data dir ${file}`);
  });
});

describe("batchship serve: one service per data dir", () => {
  let dirs: ServiceDirs;
  const started: ServiceProcess[] = [];
  const env = { BATCHSHIP_WEBHOOK_SECRET: SECRET };
  let args: string[];

  beforeAll(async () => {
    dirs = await createServiceDirs();
    args = ["--pipelines", dirs.pipelines, "--data-dir", dirs.data];
  });
  afterAll(async () => {
    for (const service of started) if (service.child.exitCode === null && service.child.signalCode === null) await killHard(service);
    await dirs?.remove();
  });

  it("a second service on the data dir exits 3 naming it and touches nothing; after kill -9 of the first a new one starts", async () => {
    const first = await startServiceProcess(args, env);
    started.push(first);
    const before = (await readdir(dirs.data)).sort();
    expect(before).toContain("batchship.lock");
    expect(before).toContain("batchship.sqlite");

    const second = spawnServiceProcess(args, env);
    const exit = await second.exited;
    expect(exit).toEqual({ code: 3, signal: null });
    expect(second.output()).toContain(`error: Another batchship serve is running on the data dir ${dirs.data}`);
    expect(second.output()).toContain("hint: run one service per data dir");
    expect(second.logs.some((l) => l.msg === "service listening")).toBe(false);
    expect((await readdir(dirs.data)).sort()).toEqual(before);
    // The first one never noticed.
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);

    await killHard(first);
    const third = await startServiceProcess(args, env);
    started.push(third);
    expect(await (await fetch(`${third.url}/readyz`)).json()).toMatchObject({ checks: { storeWritable: true } });
    expect(await stopGracefully(third)).toEqual({ code: 0, signal: null });

    // A graceful stop lets the data dir go too.
    const fourth = await startServiceProcess(args, env);
    started.push(fourth);
    // (Its signal handlers are in place a moment after "service listening".)
    expect((await fetch(`${fourth.url}/readyz`)).status).toBe(200);
    expect(await stopGracefully(fourth)).toEqual({ code: 0, signal: null });
  });

  it("a SIGTERM while the service starts stops it cleanly once it is up, and lets the data dir go", async () => {
    const starting = spawnServiceProcess(args, env);
    // The first line is logged before the store, the workers or the port are ready.
    await starting.waitForLog(() => true);
    starting.child.kill("SIGTERM");
    expect(await starting.exited).toEqual({ code: 0, signal: null });
    expect(starting.logs.some((l) => l.msg === "signal received while starting; stopping once started" && l.signal === "SIGTERM")).toBe(true);
    expect(starting.logs.at(-1)?.msg).toBe("service stopped");

    const next = await startServiceProcess(args, env);
    started.push(next);
    expect(await stopGracefully(next)).toEqual({ code: 0, signal: null });
  });

  it("a service that cannot listen exits 3 at once, leaving nothing running and the data dir free", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const refused = spawnServiceProcess([...args, "--port", String(port)], env);
      expect(await refused.exited).toEqual({ code: 3, signal: null });
      expect(refused.output()).toMatch(/error: .*EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    const next = await startServiceProcess(args, env);
    started.push(next);
    expect(await stopGracefully(next)).toEqual({ code: 0, signal: null });
  });
});
