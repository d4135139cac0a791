import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/**
 * BATCHSHIP_CACHE_DIR for the CLI and Action runs of one test file, so that they never write the
 * cache of whoever runs the tests (saved revision hints, GitOps clones). Removed after the file's
 * tests: the hook is registered when a test file imports this, as it collects its tests.
 */
export const TEST_CACHE_DIR = mkdtempSync(join(tmpdir(), "batchship-test-cache-"));
afterAll(() => rmSync(TEST_CACHE_DIR, { recursive: true, force: true }));
