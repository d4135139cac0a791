import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BatchshipError } from "../errors.js";
import type { ChildResources } from "./child-command.js";
import type { ContainerTool } from "./container-tool.js";
import { runCommand } from "./run-command.js";
import { buildArgFlags, runWithValues } from "./values-in-environment.js";

/**
 * docker and podman share their command line. Their containers belong to a daemon (or conmon),
 * not to the client process: stopping one means removing it by name, not killing the client.
 */
export function createDockerTool(name: "docker" | "podman", env: NodeJS.ProcessEnv): ContainerTool {
  const cli = (args: string[], options: Partial<Parameters<typeof runCommand>[2]> = {}) =>
    runCommand(name, args, { env, ...options });
  // docker trusts loopback registries over HTTP by itself and has no per-call flag.
  const tls = (insecure: boolean) => (insecure && name === "podman" ? ["--tls-verify=false"] : []);

  return {
    name,

    build(input) {
      const tags = input.tags.flatMap((tag) => ["--tag", tag]);
      return runWithValues(name, ["build", "--file", input.dockerfile, ...tags, ...buildArgFlags(input.buildArgs), "--", input.contextDir], input.buildArgs, {
        env,
        logFile: input.logFile,
        timeoutMs: input.timeoutMs,
      });
    },

    push(reference, insecure, logFile) {
      return cli(["push", ...tls(insecure), "--", reference], { logFile });
    },

    async run(input) {
      const command = input.command === undefined ? [] : [...input.command];
      const remove = () => cli(["rm", "--force", "--", input.name]);
      let timedOut = false;
      const timer =
        input.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              void remove();
            }, input.timeoutMs);
      const onAbort = () => void remove();
      input.signal.addEventListener("abort", onAbort, { once: true });
      input.onStart?.({ container: input.name });
      try {
        const envFile = await writeEnvFile(input.scratchDir, input.environment);
        const outcome = await cli(
          ["run", "--rm", ...tls(input.insecure), "--name", input.name, "--env-file", envFile, ...limitFlags(input.resources), "--", input.image, ...command],
          { logFile: input.logFile, signal: input.signal, ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs + 10_000 }) },
        );
        // 125: the client could not create or start the container (pull failed, bad flags).
        return { ...outcome, timedOut: outcome.timedOut || timedOut, started: outcome.code !== 125 && !outcome.missing };
      } finally {
        if (timer !== undefined) clearTimeout(timer);
        input.signal.removeEventListener("abort", onAbort);
      }
    },

    async reap(handle) {
      // The container is the daemon's: removing it ends it, and the client attached to it.
      if (handle.container !== undefined) await cli(["rm", "--force", "--", handle.container]);
    },
  };
}

/**
 * The environment as an --env-file, so its values never reach argv (where `ps` shows them). The
 * format has no quoting: a line is NAME=VALUE to its end, so a value cannot span lines.
 */
async function writeEnvFile(dir: string, environment: Readonly<Record<string, string>>): Promise<string> {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(environment)) {
    if (/[\r\n]/.test(value)) {
      throw new BatchshipError("SPEC_INVALID", `Could not start the container: environment variable ${name} spans several lines`, {
        hint: "docker and podman read the environment from a file of NAME=VALUE lines; keep each value on one line",
      });
    }
    lines.push(`${name}=${value}`);
  }
  const file = join(dir, "env");
  await writeFile(file, lines.join("\n") + "\n", { mode: 0o600 });
  return file;
}

/** The definition's vCPUs and memory (MiB) as the container's CPU quota and hard memory limit. */
function limitFlags(resources: ChildResources): string[] {
  return [
    ...(resources.vcpus === undefined ? [] : ["--cpus", String(resources.vcpus)]),
    ...(resources.memoryMiB === undefined ? [] : ["--memory", `${Math.floor(resources.memoryMiB)}m`]),
  ];
}
