import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Vitest global setup: the CLI and service tests run the built binary, so `build/` must hold
 * the sources under test, also when one test file is run alone. Builds when a source is newer
 * than the newest built file (or nothing was built), once per test run.
 */
export default function buildOnce(): void {
  const built = newestMtime(join(ROOT, "build"));
  const sources = Math.max(newestMtime(join(ROOT, "src")), statSync(join(ROOT, "tsconfig.json")).mtimeMs);
  if (built !== 0 && built >= sources) return;
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json")], { cwd: ROOT, stdio: "inherit" });
}

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}
