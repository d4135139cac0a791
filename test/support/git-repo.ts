import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { simpleGit } from "simple-git";

export interface TestRepo {
  dir: string;
  /** Writes files and commits them; returns the new commit's sha. */
  commit(files: Record<string, string>, message?: string): Promise<string>;
  remove(): Promise<void>;
}

/** A real git repository in a temp folder, as an app repository holding its pipeline file. */
export async function createTestRepo(branch = "main"): Promise<TestRepo> {
  const dir = await mkdtemp(join(tmpdir(), "batchship-repo-"));
  const git = simpleGit(dir);
  await git.init(["--initial-branch", branch]);
  await git.addConfig("user.name", "Test");
  await git.addConfig("user.email", "test@example.com");
  await git.addConfig("commit.gpgsign", "false");
  return {
    dir,
    async commit(files, message = "change") {
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
      await git.add(Object.keys(files));
      await git.commit(message);
      return (await git.revparse(["HEAD"])).trim();
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
