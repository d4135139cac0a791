import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { cacheDir } from "../cache-dir.js";
import type { RevisionHintStore, SavedRevisionHint } from "./revision-hints.js";

/** Names kept in one file; the least recently saved go first. About 150 bytes each. */
export const MAX_HINTS = 1_000;
/** Larger than MAX_HINTS entries can make: not a file this module wrote. */
const MAX_FILE_BYTES = 1024 * 1024;

const HintFile = z.object({
  version: z.literal(1),
  hints: z.record(z.string(), z.object({ revision: z.number().int().positive(), savedAt: z.number() })),
});
type HintFile = z.infer<typeof HintFile>;

/** The CLI's and the Action's hint file: `revision-hints.json` in the cache directory. */
export function revisionHintFilePath(env: Readonly<Record<string, string | undefined>>): string {
  return join(cacheDir(env), "revision-hints.json");
}

/**
 * Saved revision hints in a JSON file, for processes that live for one command (the CLI, the
 * Action). Each write reads the file again and replaces it whole through a rename, so processes
 * running at once never leave it half written; of two writes at once the last wins, and what
 * the other added is missing until a later run saves it (a lookup then costs calls, no more). A
 * file that cannot be read or is not one of these reads as an error (the platform goes without
 * hints) and is replaced by the next write.
 */
export function createRevisionHintFile(path: string): RevisionHintStore {
  const load = (): HintFile => {
    let text: string;
    try {
      if (statSync(path).size > MAX_FILE_BYTES) throw new Error(`${path} is larger than ${MAX_FILE_BYTES} bytes`);
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, hints: {} };
      throw error;
    }
    const parsed = HintFile.safeParse(parseJson(text));
    if (!parsed.success) throw new Error(`${path} is not a batchship revision hint file`);
    return parsed.data;
  };
  return {
    read: (key): SavedRevisionHint | undefined => load().hints[key],
    write(key, hint) {
      let file: HintFile;
      try {
        file = load();
      } catch {
        file = { version: 1, hints: {} };
      }
      const hints = { ...file.hints, [key]: { revision: hint.revision, savedAt: hint.savedAt } };
      const newest = Object.entries(hints)
        .sort(([, a], [, b]) => b.savedAt - a.savedAt)
        .slice(0, MAX_HINTS);
      mkdirSync(dirname(path), { recursive: true });
      // A name no other process picks, created new (`wx`: never a file or a link already there).
      const temporary = `${path}.${randomUUID()}.tmp`;
      try {
        writeFileSync(temporary, `${JSON.stringify({ version: 1, hints: Object.fromEntries(newest) })}\n`, { mode: 0o600, flag: "wx" });
        renameSync(temporary, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") rmSync(temporary, { force: true });
        throw error;
      }
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
