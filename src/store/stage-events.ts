import type { Database } from "better-sqlite3";
import type { StageEventRecord } from "./types.js";

interface StageEventRow {
  id: number;
  release_id: string;
  at: number;
  type: string;
  stage: string | null;
  data_json: string;
}

/** What the engine reported while a release ran, in order: the API's stage timeline. */
export interface StageEventTable {
  append(releaseId: string, at: number, event: { type: string; stage?: string } & Record<string, unknown>): void;
  list(releaseId: string): StageEventRecord[];
}

export function createStageEventTable(db: Database): StageEventTable {
  const insert = db.prepare(`INSERT INTO stage_events (release_id, at, type, stage, data_json) VALUES (?, ?, ?, ?, ?)`);
  const all = db.prepare(`SELECT * FROM stage_events WHERE release_id = ? ORDER BY id`);
  return {
    append(releaseId, at, event) {
      const { type, stage, ...data } = event;
      insert.run(releaseId, at, type, stage ?? null, JSON.stringify(data));
    },
    list: (releaseId) =>
      (all.all(releaseId) as StageEventRow[]).map((row) => ({
        id: row.id,
        releaseId: row.release_id,
        at: row.at,
        type: row.type,
        stage: row.stage,
        data: JSON.parse(row.data_json) as Record<string, unknown>,
      })),
  };
}
