import { buildArgFlags, envFlags, type ContainerTool } from "./container-tool.js";
import { runCommand } from "./run-command.js";

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
      return cli(["build", "--file", input.dockerfile, ...tags, ...buildArgFlags(input.buildArgs), "--", input.contextDir], {
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
        const outcome = await cli(
          ["run", "--rm", ...tls(input.insecure), "--name", input.name, ...envFlags(input.environment), "--", input.image, ...command],
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
