import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The CLI and service tests run build/: build it first when the sources changed.
    globalSetup: ["test/support/build-once.ts"],
  },
});
