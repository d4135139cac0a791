import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * The arguments to `node` that start the cgroup launcher (cgroup-launcher.ts): the built file
 * beside this module, as the package ships it (build/local), found from the CLI, the service and
 * a detached runner alike. In the source tree, where the tests run the TypeScript itself: the
 * built launcher when it is not older than its source (node starts it in a fraction of the time
 * tsx takes), else the source through tsx. undefined where none is there (a bundle of the code
 * without the file).
 */
export function cgroupLauncherArgs(): string[] | undefined {
  const beside = fileURLToPath(new URL("./cgroup-launcher.js", import.meta.url));
  if (existsSync(beside)) return [beside];
  const source = fileURLToPath(new URL("./cgroup-launcher.ts", import.meta.url));
  if (!existsSync(source)) return undefined;
  const built = fileURLToPath(new URL("../../build/local/cgroup-launcher.js", import.meta.url));
  if (existsSync(built) && statSync(built).mtimeMs >= statSync(source).mtimeMs) return [built];
  try {
    return ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href, source];
  } catch {
    return undefined;
  }
}
