import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { createCommitStatusClient } from "../../src/github/commit-status-client.js";
import { createLogger } from "../../src/server/logger.js";
import { createMetrics } from "../../src/server/metrics.js";
import { createReportLoop, type ReportLoop } from "../../src/service/report-loop.js";
import { openStore, type Store } from "../../src/store/index.js";

let store: Store | undefined;
let loop: ReportLoop | undefined;
let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  await loop?.stop();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** GitHub's answers per repository, in order; once they run out, 201. */
type Answer = { status: number; headers?: Record<string, string> };

async function until(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("commit statuses GitHub refuses", () => {
  it("are given up at once on a 4xx a retry cannot help, logged with the reason and counted; timeouts, rate limits and 5xx back off and are sent", async () => {
    const script: Record<string, Answer[]> = {
      "acme/gone": [{ status: 404 }],
      "acme/invalid": [{ status: 422 }],
      "acme/forbidden": [{ status: 403 }],
      "acme/limited": [{ status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000)) } }],
      "acme/secondary": [{ status: 403, headers: { "retry-after": "0" } }],
      "acme/busy": [{ status: 429 }, { status: 408 }],
      "acme/down": [{ status: 502 }],
    };
    const calls: Record<string, number> = {};
    server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        const repository = /^\/repos\/([^/]+\/[^/]+)\/statuses\//.exec(request.url ?? "")?.[1] ?? "";
        calls[repository] = (calls[repository] ?? 0) + 1;
        const answer = script[repository]?.shift() ?? { status: 201 };
        response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers }).end(JSON.stringify({ message: `answer ${answer.status}` }));
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    dir = mkdtempSync(join(tmpdir(), "batchship-refusals-"));
    const opened = openStore(join(dir, "batchship.sqlite"));
    store = opened;
    for (const [i, repository] of Object.keys(script).entries()) {
      opened.statusReports.enqueue(
        { releaseId: `r-${i}`, repository, commit: String(i).repeat(40), context: "batchship/etl", state: "pending", description: "queued", targetUrl: "" },
        Date.now(),
      );
    }
    const logs: Array<Record<string, unknown>> = [];
    const logger = createLogger({ write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>), level: "debug" });
    const metrics = createMetrics({ queueDepth: () => 0, running: () => 0, pendingReports: () => 0 });
    onTestFinished(() => metrics.stop());
    const post = createCommitStatusClient({ token: "t0ken", baseUrl, timeoutMs: 5_000, userAgent: "batchship-test" });
    loop = createReportLoop({ store: opened, logger, metrics, clock: () => Date.now() }, post, { retryMs: 10, tickMs: 10 });
    loop.start();

    await until("every status to be sent or given up", () => opened.statusReports.pendingCount() === 0);
    // One post each for what a retry cannot help; the others until GitHub took them.
    expect(calls).toEqual({ "acme/gone": 1, "acme/invalid": 1, "acme/forbidden": 1, "acme/limited": 2, "acme/secondary": 2, "acme/busy": 3, "acme/down": 2 });
    const refused = logs.filter((l) => l.msg === "commit status refused by GitHub; not retrying");
    expect(refused.map((l) => [l.error, l.reason])).toEqual([
      ["HTTP 404: answer 404", "the repository or commit is gone, or out of the token's reach"],
      ["HTTP 422: answer 422", "GitHub does not take this status (too many statuses for the commit, or an invalid field)"],
      ["HTTP 403: answer 403", "the token may not set statuses on this repository"],
    ]);
    const exposition = await metrics.registry.metrics();
    expect(exposition).toMatch(/^batchship_status_reports_total\{result="refused"\} 3$/m);
    expect(exposition).toMatch(/^batchship_status_reports_total\{result="sent"\} 4$/m);
    expect(exposition).toMatch(/^batchship_status_reports_total\{result="failed"\} 5$/m);
    expect(exposition).not.toContain('result="abandoned"');
    expect(JSON.stringify(logs)).not.toContain("t0ken");
  }, 60_000);
});
