import { basename, dirname, resolve } from "node:path";
import { simpleGit } from "simple-git";

/**
 * True when the pipeline file differs from what HEAD holds (edited, staged or never committed):
 * a release reads the spec at the commit, so those edits are not what gets released. A file
 * git cannot tell about answers false; the release itself reports why.
 */
export async function hasUncommittedChanges(pipelineFile: string): Promise<boolean> {
  const file = resolve(pipelineFile);
  try {
    const status = await simpleGit(dirname(file)).raw(["status", "--porcelain", "--", basename(file)]);
    return status.trim() !== "";
  } catch {
    return false;
  }
}
