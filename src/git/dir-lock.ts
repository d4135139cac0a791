import { mkdir, rm, stat } from "node:fs/promises";
import { BatchshipError } from "../errors.js";

const STALE_MS = 5 * 60_000;

/**
 * Runs `work` while holding a lock directory. A working clone is shared by every batchship
 * process on the machine (several CLI runs, the service's workers), and git itself fails on a
 * second writer (index.lock), so writers take turns. mkdir is atomic on every filesystem git
 * supports; a lock left by a crashed process is taken over once it is clearly stale.
 */
export async function withDirLock<T>(lockDir: string, work: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const age = await ageOf(lockDir);
      if (age !== undefined && age > STALE_MS) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - started > timeoutMs) {
        throw new BatchshipError("ENVIRONMENT", `Could not lock the release ledger clone: ${lockDir} is held by another process`, {
          retryable: true,
          hint: "another batchship process is writing the ledger; if none is running, delete that folder",
        });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(25 * (attempt + 1), 250)));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function ageOf(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}
