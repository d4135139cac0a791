import { BatchshipError } from "../errors.js";
import { NEWEST_WINDOW, type Clock, type JobDefinitionBody, type JobDefinitionRevision, type JobPlatform } from "../release/ports.js";
import { writeTransaction, type StateDb } from "./state-store.js";

interface DefinitionRow {
  name: string;
  revision: number;
  arn: string;
  body: string;
  tags: string;
}

export type JobDefinitionStore = Pick<
  JobPlatform,
  "listJobDefinitionRevisions" | "newestJobDefinitionRevisions" | "registerJobDefinition" | "tagJobDefinition" | "deregisterJobDefinition"
> & {
  /** The revision an ARN names, for the runner. */
  byArn(arn: string): JobDefinitionRevision | undefined;
};

/** Local ARNs keep Batch's shape after the colon-separated prefix: `…:job-definition/<name>:<revision>`. */
export function localJobDefinitionArn(name: string, revision: number): string {
  return `arn:batchship:local::job-definition/${name}:${revision}`;
}

/**
 * Job definition revisions as Batch keeps them: numbered per name from 1, never reused, with
 * tags. Registration is one immediate transaction, so two processes never get the same revision
 * and one never fails because the other wrote between its read and its write.
 */
export function createJobDefinitionStore(db: StateDb, clock: Clock): JobDefinitionStore {
  const list = db.prepare<[string, string], DefinitionRow>(
    "SELECT name, revision, arn, body, tags FROM job_definitions WHERE name = ? AND status = ? ORDER BY revision DESC",
  );
  // The newest NEWEST_WINDOW numbers of the name, by the primary key: as cheap with 10,000 revisions as with 3.
  const newest = db.prepare<[string, string, number], DefinitionRow>(
    `SELECT name, revision, arn, body, tags FROM job_definitions
     WHERE name = ? AND status = 'ACTIVE' AND revision > (SELECT COALESCE(MAX(revision), 0) FROM job_definitions WHERE name = ?) - ?
     ORDER BY revision DESC`,
  );
  const oldestActive = db.prepare<[string], { revision: number | null }>(
    "SELECT MIN(revision) AS revision FROM job_definitions WHERE name = ? AND status = 'ACTIVE'",
  );
  const byArn = db.prepare<[string], DefinitionRow>("SELECT name, revision, arn, body, tags FROM job_definitions WHERE arn = ?");
  const nextRevision = db.prepare<[string], { next: number }>(
    "SELECT COALESCE(MAX(revision), 0) + 1 AS next FROM job_definitions WHERE name = ?",
  );
  const insert = db.prepare(
    "INSERT INTO job_definitions (name, revision, arn, body, tags, created_at) VALUES (@name, @revision, @arn, @body, @tags, @createdAt)",
  );
  const setTags = db.prepare("UPDATE job_definitions SET tags = ? WHERE arn = ?");
  const deactivate = db.prepare<[string]>("UPDATE job_definitions SET status = 'INACTIVE' WHERE arn = ?");

  const register = writeTransaction(db, (name: string, body: JobDefinitionBody, tags: Record<string, string>) => {
    const revision = nextRevision.get(name)?.next ?? 1;
    const arn = localJobDefinitionArn(name, revision);
    insert.run({ name, revision, arn, body: JSON.stringify(body), tags: JSON.stringify(tags), createdAt: clock.now() });
    return { arn, revision };
  });
  const tag = writeTransaction(db, (arn: string, tags: Record<string, string>) => {
    const row = byArn.get(arn);
    if (row === undefined) {
      throw new BatchshipError("ENVIRONMENT", `Could not tag job definition ${arn}: it does not exist in the local store`);
    }
    setTags.run(JSON.stringify({ ...(JSON.parse(row.tags) as Record<string, string>), ...tags }), arn);
  });

  return {
    async listJobDefinitionRevisions(name, status = "ACTIVE") {
      return list.all(name, status).map(toRevision);
    },
    async newestJobDefinitionRevisions(name) {
      const revisions = newest.all(name, name, NEWEST_WINDOW).map(toRevision);
      const oldest = oldestActive.get(name)?.revision ?? null;
      return { revisions, complete: oldest === null || revisions.some((r) => r.revision === oldest) };
    },
    async registerJobDefinition(name, body, tags) {
      return register(name, body, tags);
    },
    async tagJobDefinition(arn, tags) {
      if (Object.keys(tags).length > 0) tag(arn, tags);
    },
    async deregisterJobDefinition(arn) {
      // As Batch: the revision stays readable by ARN (its jobs still name it) and is never reused.
      if (deactivate.run(arn).changes === 0) {
        throw new BatchshipError("ENVIRONMENT", `Could not deregister job definition ${arn}: it does not exist in the local store`);
      }
    },
    byArn(arn) {
      const row = byArn.get(arn);
      return row === undefined ? undefined : toRevision(row);
    },
  };
}

function toRevision(row: DefinitionRow): JobDefinitionRevision {
  return {
    name: row.name,
    arn: row.arn,
    revision: row.revision,
    body: JSON.parse(row.body) as JobDefinitionBody,
    tags: JSON.parse(row.tags) as Record<string, string>,
  };
}
