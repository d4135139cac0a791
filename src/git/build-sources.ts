import { posix } from "node:path";
import { simpleGit } from "simple-git";
import { BatchshipError } from "../errors.js";
import type { BuildSources, SourceEntry } from "../release/content-key.js";

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/**
 * Reads the object ids of the build context, the Dockerfile and its own ignore file at a commit
 * (`git ls-tree`, one call per path). The context's tree id covers every file in it, `.dockerignore` included
 * and ignored files too: a change to an ignored file builds again, which costs a build but never
 * reuses a stale image. The Dockerfile is listed on its own because it may live outside the
 * context.
 */
export async function readBuildSources(
  repositoryDir: string,
  commit: string,
  image: { context: string; dockerfile: string },
): Promise<BuildSources> {
  if (!SHA.test(commit)) throw new BatchshipError("USAGE", `Invalid commit "${commit}": expected a full sha`);
  const context = normalize(image.context);
  const dockerfile = normalize(image.dockerfile);
  const dockerfileIgnore = `${dockerfile}.dockerignore`;
  try {
    // Inside the try: simple-git refuses a folder that does not exist when it is made.
    const git = simpleGit({ baseDir: repositoryDir });
    // One path per call: given a folder and a path inside it, ls-tree lists the folder's contents.
    const entry = async (path: string): Promise<SourceEntry> =>
      parseLsTree(await git.raw(["ls-tree", "-z", "--full-tree", "--end-of-options", commit, "--", path])).get(path) ?? absent(path);
    const [contextEntry, dockerfileEntry, ignoreEntry] = await Promise.all([
      context === ""
        ? git.raw(["rev-parse", "--verify", "--end-of-options", `${commit}^{tree}`]).then((id) => ({ path: "", type: "tree", mode: "040000", id: id.trim() }))
        : entry(context),
      entry(dockerfile),
      entry(dockerfileIgnore),
    ]);
    return { context: contextEntry, dockerfile: dockerfileEntry, dockerfileIgnore: ignoreEntry };
  } catch (error) {
    const reason = error instanceof Error ? error.message.trim().split("\n")[0] : String(error);
    throw new BatchshipError("GIT", `Could not read the build's sources at ${commit.slice(0, 12)}: ${reason}`, {
      hint: "the commit must exist in the repository holding the pipeline file",
      cause: error,
    });
  }
}

/** `./app/` and `app` are the same folder to the build; "" is the repository root. */
function normalize(path: string): string {
  const normal = posix.normalize(path).replace(/\/+$/, "");
  return normal === "." ? "" : normal;
}

function absent(path: string): SourceEntry {
  return { path, type: "absent", id: "", mode: "" };
}

/** `-z` output: entries end in NUL and paths are never quoted. */
function parseLsTree(output: string): Map<string, SourceEntry> {
  const entries = new Map<string, SourceEntry>();
  for (const record of output.split("\0")) {
    const match = /^(\d+) (\w+) ([0-9a-f]+)\t([\s\S]*)$/.exec(record);
    if (match === null) continue;
    const [, mode = "", type = "", id = "", path = ""] = match;
    entries.set(path, { path, type, id, mode });
  }
  return entries;
}
