import { lstat, realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { BatchshipError } from "../errors.js";

export type CommitPathKind = "directory" | "file";

/**
 * The real path of `path` inside an exported commit at `root`, refused when it leaves the commit.
 * The spec forbids '/' and '..' already, but a symlink committed as the context folder, as one of
 * its parents, or as the Dockerfile itself points anywhere on this machine: the build tool would
 * read host files and bake them into an image that is then pushed. Symlinks inside the context are
 * not checked here: the build tool resolves those within the context.
 */
export async function resolveInCommit(root: string, path: string, kind: CommitPathKind, setting: string): Promise<string> {
  const realRoot = await realpath(root);
  const lexical = resolve(realRoot, path);
  if (!within(realRoot, lexical)) throw outside(setting, path, "it is not a path inside the repository");
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (error) {
    const link = await firstSymlink(realRoot, lexical);
    if (link !== undefined) throw outside(setting, path, `${link} is a symlink that leads out of the commit or nowhere`);
    throw new BatchshipError("SPEC_INVALID", `Could not start the local build: ${setting} ${path} is not in the commit`, {
      hint: `commit the ${kind === "directory" ? "folder" : "file"} or change ${setting} in the pipeline file`,
      cause: error,
    });
  }
  if (!within(realRoot, real)) {
    const link = (await firstSymlink(realRoot, lexical)) ?? path;
    throw outside(setting, path, `${link} is a symlink to a place outside the commit`);
  }
  const found = await stat(real);
  if (kind === "directory" ? !found.isDirectory() : !found.isFile()) {
    throw new BatchshipError("SPEC_INVALID", `Could not start the local build: ${setting} ${path} is not a ${kind} in the commit`, {
      hint: `point ${setting} at a ${kind} of the repository`,
    });
  }
  return real;
}

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!isAbsolute(rel) && rel !== ".." && !rel.startsWith(`..${sep}`));
}

/** The first component of `full` below `root` that is a symlink, as a path relative to `root`. */
async function firstSymlink(root: string, full: string): Promise<string | undefined> {
  const parts = relative(root, full).split(sep);
  for (let i = 1; i <= parts.length; i++) {
    const candidate = parts.slice(0, i).join("/");
    try {
      if ((await lstat(resolve(root, candidate))).isSymbolicLink()) return candidate;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function outside(setting: string, path: string, reason: string): BatchshipError {
  return new BatchshipError("SPEC_INVALID", `Could not start the local build: ${setting} ${path} leaves the commit: ${reason}`, {
    hint: "a build reads only files of the commit; replace the symlink with the folder or file itself",
  });
}
