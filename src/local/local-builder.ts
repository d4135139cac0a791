import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { BatchshipError } from "../errors.js";
import { exportCommit } from "../git/export-commit.js";
import type { BuildPhase, BuildRequest, BuildState, Builder } from "../release/ports.js";
import type { ContainerTool } from "./container-tool.js";
import { parseImageReference } from "./image-reference.js";
import type { CommandOutcome } from "./run-command.js";
import type { StateDb } from "./state-store.js";

export interface LocalBuilderDeps {
  db: StateDb;
  tool: () => Promise<ContainerTool>;
  stateDir: string;
  repositoryDir: string | undefined;
  insecureRegistries: readonly string[];
  now: () => number;
}

interface BuildRow {
  id: string;
  status: BuildState["status"];
  detail: string | null;
  current_phase: string | null;
  phases: string;
  log_path: string;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const CONTEXT_LINES = 8;

/**
 * The Builder port on this machine. A local build runs to its end inside `startBuild` (export
 * the commit, build with the detected tool, push every tag), so there is never a running build
 * to find again: `findBuild` answers undefined and a resumed release builds anew unless the
 * registry already has the commit's tag. Builds are recorded so `getBuild` answers later too.
 */
export function createLocalBuilder(deps: LocalBuilderDeps): Builder {
  const { db } = deps;
  const insert = db.prepare(`INSERT INTO builds (id, release_id, commit_sha, status, phases, log_path, started_at)
    VALUES (?, ?, ?, 'in-progress', '[]', ?, ?)`);
  const update = db.prepare("UPDATE builds SET status = ?, detail = ?, current_phase = ?, phases = ? WHERE id = ?");
  const get = db.prepare<[string], BuildRow>("SELECT id, status, detail, current_phase, phases, log_path FROM builds WHERE id = ?");

  return {
    async findBuild() {
      return undefined;
    },

    async startBuild(request) {
      for (const tag of request.imageTags) {
        if (!TAG.test(tag)) throw new BatchshipError("SPEC_INVALID", `Could not start the local build: invalid image tag "${tag}"`);
      }
      if (deps.repositoryDir === undefined) {
        throw new BatchshipError("ENVIRONMENT", "Could not start the local build: no git repository to build from", {
          hint: "run batchship from the CLI with --pipeline pointing into the app's repository",
        });
      }
      const tool = await deps.tool();
      const ref = parseImageReference(request.imageRepositoryUri, deps.insecureRegistries);
      const id = `${request.project}:${randomUUID()}`;
      const logsDir = join(deps.stateDir, "builds");
      mkdirSync(logsDir, { recursive: true });
      const logFile = join(logsDir, `${id.replace(":", "-")}.log`);
      insert.run(id, request.releaseId, request.commit, logFile, deps.now());

      const phases: BuildPhase[] = [];
      const save = (status: BuildState["status"], detail: string | null) =>
        update.run(status, detail, phases.at(-1)?.name ?? null, JSON.stringify(phases), id);
      const failed = (outcome: CommandOutcome, phase: BuildPhase, detail = "FAILED"): BuildState => {
        phase.status = outcome.timedOut ? "TIMED_OUT" : "FAILED";
        phase.contexts = outcome.tail.slice(-CONTEXT_LINES);
        save("failed", outcome.timedOut ? "TIMED_OUT" : detail);
        return read(id);
      };

      const workDir = join(deps.stateDir, "work");
      await mkdir(workDir, { recursive: true });
      const source = await mkdtemp(join(workDir, "build-"));
      try {
        const sourcePhase: BuildPhase = { name: "DOWNLOAD_SOURCE", contexts: [] };
        phases.push(sourcePhase);
        save("in-progress", null);
        await exportCommit(deps.repositoryDir, request.commit, source);
        sourcePhase.status = "SUCCEEDED";

        const buildPhase: BuildPhase = { name: "BUILD", contexts: [] };
        phases.push(buildPhase);
        save("in-progress", null);
        const references = request.imageTags.map((tag) => `${ref.host}/${ref.name}:${tag}`);
        const built = await tool.build({
          contextDir: inside(source, request.context),
          dockerfile: inside(source, request.dockerfile),
          tags: references,
          buildArgs: request.buildArgs,
          logFile,
          timeoutMs: request.timeoutMinutes * 60_000,
        });
        if (built.code !== 0) return failed(built, buildPhase);
        buildPhase.status = "SUCCEEDED";

        const pushPhase: BuildPhase = { name: "POST_BUILD", contexts: [] };
        phases.push(pushPhase);
        save("in-progress", null);
        for (const reference of references) {
          const pushed = await tool.push(reference, ref.insecure, logFile);
          if (pushed.code !== 0) return failed({ ...pushed, tail: [`push ${reference} failed`, ...pushed.tail] }, pushPhase);
        }
        pushPhase.status = "SUCCEEDED";
        save("succeeded", null);
        return read(id);
      } catch (error) {
        const phase = phases.at(-1);
        if (phase !== undefined) {
          phase.status = "FAILED";
          phase.contexts = [error instanceof Error ? error.message : String(error)];
        }
        save("failed", "FAILED");
        throw error;
      } finally {
        await rm(source, { recursive: true, force: true });
      }
    },

    async getBuild(buildId) {
      return read(buildId);
    },
  };

  function read(buildId: string): BuildState {
    const row = get.get(buildId);
    if (row === undefined) {
      throw new BatchshipError("ENVIRONMENT", `Could not read local build ${buildId}: it is not in the local store`);
    }
    const state: BuildState = {
      id: row.id,
      status: row.status,
      phases: JSON.parse(row.phases) as BuildPhase[],
      logUrl: row.log_path,
    };
    if (row.detail !== null) state.detail = row.detail;
    if (row.current_phase !== null) state.currentPhase = row.current_phase;
    return state;
  }
}

/**
 * The spec forbids '..' already; this keeps the path lexically inside the exported tree. It does
 * not follow symlinks: a committed symlink still leads wherever it points.
 */
function inside(root: string, path: string): string {
  const full = resolve(root, path);
  const rel = relative(root, full);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new BatchshipError("SPEC_INVALID", `Could not start the local build: ${path} is outside the repository`);
  }
  return full;
}
