import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};

/** The package root a bare import names (`@aws-sdk/client-batch/x` → `@aws-sdk/client-batch`). */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

// What `npm install -g batchship` installs: the files npm packs and the dependencies (never the
// devDependencies). `npm pack` runs the build through `prepare`; the dry run here reads what is built.
describe("the npm package", () => {
  it("packs the binary and the built code, not the sources, and needs only its dependencies at run time", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, env: { ...process.env, npm_config_loglevel: "silent" } });
    const files = new Set((JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map((f) => f.path));
    expect(pkg.bin).toEqual({ batchship: "bin/batchship.js" });
    expect(files.has("bin/batchship.js")).toBe(true);
    expect(files.has("build/cli/main.js")).toBe(true);
    // Started as a file of its own, never imported: the import scan below would not see it missing.
    expect(files.has("build/local/cgroup-launcher.js")).toBe(true);
    expect([...files].filter((f) => /^(src|test|bench|dist)\//.test(f))).toEqual([]);

    const builtins = new Set(builtinModules);
    const missing = new Set<string>();
    const used = new Set<string>();
    for (const file of [...files].filter((f) => f.endsWith(".js"))) {
      const text = readFileSync(join(root, file), "utf8");
      for (const [, specifier = ""] of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/g)) {
        if (!specifier.startsWith(".")) used.add(packageOf(specifier));
        if (specifier.startsWith(".")) {
          // A relative import must itself be packed.
          const target = join(file, "..", specifier);
          if (!files.has(target)) missing.add(`${file} → ${target} (not packed)`);
        } else if (!specifier.startsWith("node:") && !builtins.has(specifier) && pkg.dependencies[packageOf(specifier)] === undefined) {
          missing.add(`${file} → ${specifier} (not a dependency)`);
        }
      }
    }
    expect([...missing]).toEqual([]);
    // The scan saw the imports it checks.
    expect(used).toContain("commander");
    expect(used).toContain("better-sqlite3");
  });

  it("runs as the installed binary and says its package version", async () => {
    const { stdout } = await run(process.execPath, [join(root, pkg.bin.batchship ?? ""), "--version"]);
    expect(stdout.trim()).toBe(pkg.version);
  });
});
