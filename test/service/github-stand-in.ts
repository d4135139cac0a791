import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedStatus {
  repository: string;
  sha: string;
  state: string;
  context: string;
  description: string;
  target_url: string;
  authorization: string | undefined;
}

export interface GitHubStandIn {
  url: string;
  statuses: RecordedStatus[];
  /** Calls that got a 5xx. */
  failed: number;
  /** The next `n` status posts get a 502. */
  failNext(n: number): void;
  /** The latest status per context for a commit. */
  latest(sha: string, context: string): RecordedStatus | undefined;
  close(): Promise<void>;
}

/** A local HTTP server in place of the GitHub API: records `POST /repos/:owner/:repo/statuses/:sha`. */
export async function startGitHubStandIn(): Promise<GitHubStandIn> {
  const statuses: RecordedStatus[] = [];
  let failing = 0;
  const standIn = {
    failed: 0,
  };
  const server = createServer((request, response) => {
    void readJson(request).then((body) => {
      const match = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(request.url ?? "");
      if (request.method !== "POST" || match === null) {
        response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Not Found" }));
        return;
      }
      if (failing > 0) {
        failing--;
        standIn.failed++;
        response.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ message: "Bad Gateway" }));
        return;
      }
      const status = body as Omit<RecordedStatus, "repository" | "sha" | "authorization">;
      statuses.push({ ...status, repository: `${match[1]}/${match[2]}`, sha: match[3] ?? "", authorization: request.headers.authorization });
      response.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ id: statuses.length, state: status.state }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(standIn, {
    url: `http://127.0.0.1:${port}`,
    statuses,
    failNext: (n: number) => void (failing = n),
    latest: (sha: string, context: string) => statuses.filter((s) => s.sha === sha && s.context === context).at(-1),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

function readJson(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    let text = "";
    request.setEncoding("utf8").on("data", (c: string) => (text += c));
    request.on("end", () => {
      try {
        resolve(JSON.parse(text || "{}"));
      } catch {
        resolve({});
      }
    });
  });
}
