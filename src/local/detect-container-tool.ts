import { BatchshipError } from "../errors.js";
import { createBuildahTool } from "./buildah-tool.js";
import type { ContainerTool, ContainerToolName } from "./container-tool.js";
import { createDockerTool } from "./docker-tool.js";
import { runCommand } from "./run-command.js";

export interface DetectSettings {
  env: NodeJS.ProcessEnv;
  stateDir: string;
  buildahStorageDriver: string;
}

const PROBES: Record<ContainerToolName, string[]> = {
  // A docker CLI without a reachable daemon is common (CI images, remote contexts): ask the daemon.
  docker: ["info", "--format", "{{.ServerVersion}}"],
  podman: ["info", "--format", "{{.Host.OS}}"],
  buildah: ["--version"],
};
const PROBE_TIMEOUT_MS = 15_000;

export const INSTALL_HINT =
  "install buildah (Debian/Ubuntu: apt-get install buildah), podman, or docker with a running daemon";

/** The first of docker, podman, buildah that works here, in that order. */
export async function detectContainerTool(settings: DetectSettings): Promise<ContainerTool> {
  const reasons: string[] = [];
  for (const name of ["docker", "podman", "buildah"] as const) {
    const probe = await runCommand(name, PROBES[name], { env: settings.env, timeoutMs: PROBE_TIMEOUT_MS, tailLines: 1 });
    if (probe.code === 0) {
      return name === "buildah"
        ? createBuildahTool({ env: settings.env, stateDir: settings.stateDir, storageDriver: settings.buildahStorageDriver })
        : createDockerTool(name, settings.env);
    }
    reasons.push(probe.missing ? `${name}: not installed` : `${name}: \`${name} ${PROBES[name].join(" ")}\` failed${probe.tail[0] ? ` (${probe.tail[0]})` : ""}`);
  }
  throw new BatchshipError("ENVIRONMENT", `Could not find a container builder: ${reasons.join("; ")}`, {
    hint: INSTALL_HINT,
  });
}
