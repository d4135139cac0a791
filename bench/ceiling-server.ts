/**
 * The ceiling for bench/webhook-ingest.ts: @octokit/webhooks' own Node middleware, verifying the
 * signature and storing nothing. Run as its own process so its RSS is its own; prints its port.
 */
import { createServer } from "node:http";
import { Webhooks, createNodeMiddleware } from "@octokit/webhooks";

const secret = process.env.BENCH_WEBHOOK_SECRET ?? "";
const webhooks = new Webhooks({ secret });
const middleware = createNodeMiddleware(webhooks, { path: "/webhook" });
const server = createServer((request, response) => void middleware(request, response));
server.keepAliveTimeout = 5_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ msg: "service listening", port: typeof address === "object" && address ? address.port : 0 })}\n`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
