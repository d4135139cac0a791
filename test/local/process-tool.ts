import type { ContainerTool } from "../../src/local/container-tool.js";
import { killOrphanedGroup, runCommand } from "../../src/local/run-command.js";

/**
 * A container tool without containers: a child's command runs as a plain process on this machine,
 * in its own process group as `buildah run` does, so the runner and adoption can be tested with
 * real processes in milliseconds.
 */
export function createProcessTool(): ContainerTool {
  const unsupported = () => Promise.reject(new Error("the process tool only runs commands"));
  return {
    name: "buildah",
    build: unsupported,
    push: unsupported,
    async run(input) {
      const [file, ...args] = input.command ?? [];
      if (file === undefined) throw new Error("the process tool needs a command");
      const outcome = await runCommand(file, args, {
        env: { PATH: process.env["PATH"] ?? "", ...input.environment },
        logFile: input.logFile,
        signal: input.signal,
        ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
        onStart: ({ group }) => {
          if (group !== undefined) input.onStart?.({ group });
        },
      });
      return { ...outcome, started: !outcome.missing };
    },
    async reap(handle) {
      if (handle.group !== undefined) killOrphanedGroup(handle.group);
    },
  };
}
