import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchClient, DescribeJobsCommand } from "@aws-sdk/client-batch";
import { createAwsClients } from "../../src/aws/clients.js";
import { MAX_CALLS_IN_FLIGHT } from "../../src/aws/calls-in-flight.js";
import { TEST_CREDENTIALS } from "../emulator/client-config.js";

// A Batch endpoint that answers every DescribeJobs after a pause, so calls pile up.
let server: Server;
let endpoint: string;
let answered = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume().on("end", () => {
      setTimeout(() => {
        answered++;
        response.writeHead(200, { "content-type": "application/json" }).end('{"jobs":[]}');
      }, 40);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Sends `count` DescribeJobs at once; returns the most calls the SDK had built and signed at one time. */
async function mostBuiltAtOnce(client: BatchClient, count: number): Promise<number> {
  let built = 0;
  let most = 0;
  // After the SDK has serialized and signed the request: what a waiting call holds in memory.
  client.middlewareStack.add(
    (next) => async (args) => {
      most = Math.max(most, ++built);
      try {
        return await next(args);
      } finally {
        built--;
      }
    },
    { step: "finalizeRequest", name: "countBuilt", priority: "low" },
  );
  const answers = await Promise.all(Array.from({ length: count }, () => client.send(new DescribeJobsCommand({ jobs: ["job"] }))));
  expect(answers.every((answer) => Array.isArray(answer.jobs))).toBe(true);
  return most;
}

describe("AWS calls in flight", () => {
  it("builds at most MAX_CALLS_IN_FLIGHT calls of one client at a time; the rest wait unbuilt and all are answered", async () => {
    const clients = createAwsClients({ region: "us-east-1", endpoint, credentials: { ...TEST_CREDENTIALS } });
    const plain = new BatchClient({ region: "us-east-1", endpoint, credentials: { ...TEST_CREDENTIALS } });
    try {
      const before = answered;
      expect(await mostBuiltAtOnce(clients.batch, 3 * MAX_CALLS_IN_FLIGHT)).toBe(MAX_CALLS_IN_FLIGHT);
      expect(answered - before).toBe(3 * MAX_CALLS_IN_FLIGHT);
      // Nor does the SDK copy each call's input and output for a logger batchship never gives it.
      expect(clients.batch.middlewareStack.identify().filter((name) => name.startsWith("loggerMiddleware"))).toEqual([]);
      // The SDK alone builds every call at once and lets them wait for a socket.
      expect(await mostBuiltAtOnce(plain, 3 * MAX_CALLS_IN_FLIGHT)).toBeGreaterThan(MAX_CALLS_IN_FLIGHT);
    } finally {
      clients.batch.destroy();
      plain.destroy();
    }
  });
});
