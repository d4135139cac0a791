import { randomBytes, randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { Webhooks } from "@octokit/webhooks";

export interface LoadResult {
  senders: number;
  deliveries: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface PreparedDelivery {
  body: Buffer;
  headers: Record<string, string>;
}

/** Signed push deliveries made before the clock starts, so the senders' own HMACs cost nothing measured. */
export async function prepareDeliveries(count: number, secret: string, template: Record<string, any>, repository: string): Promise<PreparedDelivery[]> {
  const webhooks = new Webhooks({ secret });
  const out: PreparedDelivery[] = [];
  for (let i = 0; i < count; i++) {
    const sha = randomBytes(20).toString("hex");
    const payload = { ...template, ref: "refs/heads/main", after: sha, repository: { ...template.repository, full_name: repository } };
    const text = JSON.stringify(payload);
    out.push({
      body: Buffer.from(text),
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": await webhooks.sign(text),
      },
    });
  }
  return out;
}

/**
 * `senders` loops on keep-alive connections, each posting the next delivery as soon as the
 * previous one was answered, for `seconds`. Latency is time from sending to the status line.
 */
export async function runLoad(url: string, deliveries: PreparedDelivery[], senders: number, seconds: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: senders });
  const target = new URL(`${url}/webhook`);
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();

  const sendOne = (delivery: PreparedDelivery): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { ...delivery.headers, "content-length": String(delivery.body.length) } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end(delivery.body);
    });

  const sender = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const delivery = deliveries[next++ % deliveries.length];
      if (delivery === undefined) return;
      const t0 = performance.now();
      const status = await sendOne(delivery).catch(() => 0);
      if (status >= 200 && status < 300) latencies.push(performance.now() - t0);
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: senders }, sender));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { senders, deliveries: latencies.length, seconds: elapsed, perSecond: latencies.length / elapsed, p50Ms: pct(0.5), p99Ms: pct(0.99), errors };
}
