import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

/**
 * Where `name` is on the PATH of `env`: the first absolute directory of it holding an executable
 * file of that name (a relative one would depend on the working directory). A tool is started by
 * this path whenever its environment also carries the values of a job or a build
 * (values-in-environment.ts): a `PATH` among them must not change which program runs. undefined
 * when it is not there.
 */
export function findExecutable(name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (isAbsolute(name)) return name;
  for (const dir of (env["PATH"] ?? "").split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
