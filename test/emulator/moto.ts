import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { freePort } from "./free-port.js";

export const MOTO_INSTALL_HINT = "pip install 'moto[server]'";

export interface Moto {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts a private moto_server for one test file. A missing moto_server is an error, not a
 * skip: the AWS tests are the point of the suite, and silently skipping them hides that.
 */
export async function startMoto(env: Record<string, string> = {}): Promise<Moto> {
  const executable = findOnPath("moto_server");
  if (!executable) {
    throw new Error(`moto_server is not on PATH; the AWS tests need it. Install it with: ${MOTO_INSTALL_HINT}`);
  }
  // The port can be taken between asking and binding; a second try is cheap.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(executable, await freePort(), env);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function launch(executable: string, port: number, env: Record<string, string>): Promise<Moto> {
  const endpoint = `http://127.0.0.1:${port}`;
  // Own process group, so stopping it also stops the Python process a wrapper script may have spawned.
  const child = spawn(executable, ["-H", "127.0.0.1", "-p", String(port)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  const stderr = tail(child);
  const killOnExit = () => killGroup(child, "SIGKILL");
  process.on("exit", killOnExit);

  const stop = async () => {
    process.off("exit", killOnExit);
    await stopChild(child);
  };
  try {
    await waitUntilAnswering(endpoint, child, stderr);
    // Batch jobs need Docker unless told otherwise; without it they simply run to SUCCEEDED.
    const response = await fetch(`${endpoint}/moto-api/config`, {
      method: "POST",
      body: JSON.stringify({ batch: { use_docker: false } }),
    });
    if (!response.ok) throw new Error(`moto refused its config: HTTP ${response.status}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop };
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Keeps the last lines moto wrote, to explain a failed start. */
function tail(child: ChildProcess): () => string {
  let text = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-4000);
  });
  return () => text;
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited during start-up (${child.exitCode ?? child.signalCode}):\n${stderr()}`);
    }
    try {
      await fetch(`${endpoint}/moto-api/config`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`moto_server did not answer on ${endpoint} within 30 s:\n${stderr()}`);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => killGroup(child, "SIGKILL"), 3000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    killGroup(child, "SIGTERM");
  });
}
