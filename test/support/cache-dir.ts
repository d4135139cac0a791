import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * BATCHSHIP_CACHE_DIR for the CLI and Action runs of one test file, so that they never write the
 * cache of whoever runs the tests (saved revision hints, GitOps clones). Removed when the file's
 * process exits.
 */
export const TEST_CACHE_DIR = mkdtempSync(join(tmpdir(), "batchship-test-cache-"));
process.once("exit", () => rmSync(TEST_CACHE_DIR, { recursive: true, force: true }));
