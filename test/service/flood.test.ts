import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { residentBytes, startSlowBodyFlood } from "../support/slow-body-flood.js";
import { post, pushPayload, signDelivery } from "./deliveries.js";
import { SECRET, createServiceDirs, servicePipelineYaml, type ServiceDirs } from "./service-fixture.js";
import { startServiceProcess, stopGracefully, waitFor, type ServiceProcess } from "./service-process.js";

const MIB = 1024 * 1024;
let dirs: ServiceDirs;
let service: ServiceProcess;

beforeAll(async () => {
  dirs = await createServiceDirs();
  // The release a push queues fails at its first step (no such repository): no AWS is needed.
  await dirs.writePipeline("flooded", servicePipelineYaml("flooded", { repository: "acme/flooded", url: "file:///nonexistent/flooded" }));
  service = await startServiceProcess(["--pipelines", dirs.pipelines, "--data-dir", dirs.data], {
    BATCHSHIP_WEBHOOK_SECRET: SECRET,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  });
});
afterAll(async () => {
  if (service) await stopGracefully(service);
  await dirs?.remove();
});

describe("batchship serve under a flood of slow senders", () => {
  it("holds at most its body budget, answers a real push at once, and cuts the senders off after GitHub's 10 s", async () => {
    const port = Number(new URL(service.url).port);
    const before = await residentBytes(service.child.pid ?? 0);
    // Twelve senders that each declare 23 MiB, write 22 MiB of it at once and then dribble:
    // held in full, that is 264 MiB.
    const flood = startSlowBodyFlood({ port, count: 12, declaredBytes: 23 * MIB, burstBytes: 22 * MIB, dribbleMs: 200 });
    try {
      let peak = before;
      const sampling = (async () => {
        while (flood.connections.some((c) => c.closedAfterMs === undefined)) {
          peak = Math.max(peak, await residentBytes(service.child.pid ?? 0));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      // The default budget is 64 MiB, of which 48 MiB for large bodies: two senders fit, the rest are refused at once.
      await waitFor("the refusals", () => (flood.connections.filter((c) => c.status === 503).length === 10 ? true : undefined), 20_000);

      const started = Date.now();
      const answer = await post(service.url, await signDelivery(SECRET, "push", pushPayload("acme/flooded", "f".repeat(40))));
      expect(answer.status).toBe(202);
      // GitHub gives up after 10 s.
      expect(Date.now() - started).toBeLessThan(10_000);

      await flood.closed;
      await sampling;
      // More than the whole budget reached the service (how much more depends on the machine's
      // load before the timeout); it held no more than its budget of it.
      expect(flood.bytesSent()).toBeGreaterThan(64 * MIB);
      expect(peak - before).toBeLessThan(120 * MIB);
      // The two admitted senders never finish their bodies: the request timeout ends them, not
      // node's default of five minutes.
      const admitted = flood.connections.filter((c) => c.status !== 503);
      expect(admitted).toHaveLength(2);
      for (const connection of admitted) {
        expect(connection.status).toBe(408);
        expect(connection.closedAfterMs).toBeGreaterThanOrEqual(9_000);
        expect(connection.closedAfterMs).toBeLessThan(40_000);
      }
    } finally {
      flood.stop();
    }
  });

  it("refuses a malformed signature before reading the body", async () => {
    const port = Number(new URL(service.url).port);
    for (const signature of ["sha1=" + "a".repeat(40), "sha256=" + "a".repeat(63), "sha256=" + "g".repeat(64)]) {
      const status = await new Promise<number>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1");
        let head = "";
        socket.on("data", (chunk: Buffer) => (head += chunk.toString("latin1")));
        socket.on("error", reject);
        socket.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)));
        // Only the headers are sent: an answer means it did not wait for the 23 MiB.
        socket.write(
          `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${23 * MIB}\r\nX-Hub-Signature-256: ${signature}\r\n\r\n`,
        );
      });
      expect(status).toBe(401);
    }
  });
});
