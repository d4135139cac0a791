import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { parse } from "yaml";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ACTION_BUNDLE = resolve(ROOT, "dist/action/index.js");

/**
 * Bundles the Action into the one file action.yml runs: Actions run what is committed, with no
 * `npm install`. The output depends only on the sources and the locked dependencies (relative
 * paths, no timestamps), so a test can rebuild it and compare bytes.
 */
export async function buildAction(outfile = ACTION_BUNDLE): Promise<void> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ["src/action/main.ts"],
    bundle: true,
    platform: "node",
    target: await actionRuntime(),
    format: "esm",
    // Some dependencies are CommonJS and call require(); an ES module has none of its own.
    banner: { js: 'import { createRequire as __batchshipCreateRequire } from "node:module";\nconst require = __batchshipCreateRequire(import.meta.url);' },
    legalComments: "none",
    charset: "utf8",
    write: false,
    logLevel: "warning",
  });
  const [output] = result.outputFiles;
  if (output === undefined || result.outputFiles.length !== 1) {
    throw new Error(`Could not bundle the Action: expected one output file, got ${result.outputFiles.length}`);
  }
  await mkdir(dirname(outfile), { recursive: true });
  await writeFile(outfile, output.contents);
}

/**
 * The Node the runner starts the Action on, as action.yml's `runs.using` names it (`node24`):
 * the bundle targets exactly that, so the two cannot drift apart.
 */
export async function actionRuntime(): Promise<string> {
  const using = (parse(await readFile(resolve(ROOT, "action.yml"), "utf8")) as { runs?: { using?: unknown } }).runs?.using;
  if (typeof using !== "string" || !/^node\d+$/.test(using)) {
    throw new Error(`Could not bundle the Action: action.yml's runs.using is ${JSON.stringify(using)}, not nodeNN`);
  }
  return using;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildAction(process.argv[2] === undefined ? ACTION_BUNDLE : resolve(process.argv[2]));
}
