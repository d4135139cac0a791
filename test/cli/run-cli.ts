import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TEST_CACHE_DIR } from "../support/cache-dir.js";

const BIN = fileURLToPath(new URL("../../bin/batchship.js", import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `batchship` binary as a user would, with only the given environment added. */
export function runCli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", BATCHSHIP_CACHE_DIR: TEST_CACHE_DIR, ...env }, cwd, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === "number" ? error.code : error ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
