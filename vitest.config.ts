import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most files wait on moto, git or child processes rather than the CPU: two at once on CI's
    // two cores. Vitest's default (cores − 1) would run them one at a time.
    maxWorkers: 2,
    // The CLI and service tests run build/: build it first when the sources changed.
    globalSetup: ["test/support/build-once.ts"],
  },
});
