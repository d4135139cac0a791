import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRET, createServiceDirs, type ServiceDirs } from "./service-fixture.js";
import { startServiceProcess, stopGracefully, type ServiceProcess } from "./service-process.js";

let dirs: ServiceDirs;
let service: ServiceProcess;

beforeAll(async () => {
  dirs = await createServiceDirs();
  await dirs.writePipeline("broken", "apiVersion: batchship/v1\nname: broken\n");
  service = await startServiceProcess(["--pipelines", dirs.pipelines, "--data-dir", dirs.data], { BATCHSHIP_WEBHOOK_SECRET: SECRET });
});
afterAll(async () => {
  if (service) await stopGracefully(service);
  await dirs?.remove();
});

describe("batchship serve with no valid pipeline file", () => {
  it("warns at start and on /readyz, which shows no absolute path", async () => {
    expect(service.logs.find((l) => l.msg === "no pipelines loaded: the pipelines folder has no valid pipeline file, so every push is ignored")).toMatchObject({
      level: "warn",
      problems: expect.any(Number),
    });
    const response = await fetch(`${service.url}/readyz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { checks: Record<string, boolean>; warnings: string[] };
    expect(body.checks).toEqual({ storeWriter: true, storeWritable: true, storeCheckpointer: true, pipelinesLoaded: true, accepting: true });
    expect(body.warnings).toEqual([expect.stringContaining("no pipelines are loaded")]);
    expect(JSON.stringify(body)).not.toContain(dirs.root);
  });
});
