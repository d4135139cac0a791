import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * The arguments to `node` that start the cgroup launcher (cgroup-launcher.ts): the built file
 * beside this module, as the package ships it (build/local), found from the CLI, the service and
 * a detached runner alike; in the source tree, where the tests run the TypeScript itself, the
 * source through tsx. undefined where neither is there (a bundle of the code without the file).
 */
export function cgroupLauncherArgs(): string[] | undefined {
  const built = fileURLToPath(new URL("./cgroup-launcher.js", import.meta.url));
  if (existsSync(built)) return [built];
  const source = fileURLToPath(new URL("./cgroup-launcher.ts", import.meta.url));
  if (!existsSync(source)) return undefined;
  try {
    return ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href, source];
  } catch {
    return undefined;
  }
}
