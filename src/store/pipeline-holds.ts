import type { Database } from "better-sqlite3";

/** What can hold a pipeline: a release, a reconcile, or a promotion or rollback through the API. */
export type HoldKind = "release" | "reconcile" | "api";

/** A pipeline held through the API. `release` is idempotent. */
export interface PipelineLease {
  readonly pipeline: string;
  /** What holds it, as a phrase for logs and the API's 409 ("release etl-0123456789ab is being promoted through the API"). */
  readonly holder: string;
  release(): void;
}

/**
 * Who holds pipeline P: the one place that says it. The store's claims of releases and
 * reconciles and the API's promotions and rollbacks all ask here, and nothing else keeps
 * pipelines apart.
 *
 * A release or a reconcile holds its pipeline while its row is `running` (durable: one whose
 * worker failed, or that a stopped process left running, still holds it until it is resumed
 * and ends). A promotion or rollback through the API holds it in this process while it runs
 * (nothing of it outlives the process: a promotion left `promoting` is put back at start).
 * The data-dir lock makes "this process" mean "this data dir", and every check-then-take here
 * is one synchronous step (inside the claim's transaction for the store), so two takers never
 * both see the pipeline free. Nothing waits: whoever cannot have the pipeline now skips it
 * (workers, reconciler) or answers 409 (API).
 *
 * Cancelling through the API takes no hold: the release's own worker holds the pipeline, and
 * the cancel is what makes that worker's run end.
 */
export interface PipelineHolds {
  /** The pipelines `wanted` may not start on now, each with the phrase of what holds it. */
  blocking(wanted: HoldKind): Map<string, string>;
  /** A promotion or rollback through the API takes the pipeline, or learns what holds it. */
  tryHoldForApi(pipeline: string, holder: string): { lease: PipelineLease } | { heldBy: string };
  /** How many pipelines the API holds now. */
  heldForApi(): number;
}

/**
 * The rule. Each of a release, a reconcile and a promotion or rollback is a find-then-create in
 * AWS (or a record commit first, with GitOps): safe to repeat one after the other, not to run
 * twice at once, when both could find nothing and both register. So one thing at a time per
 * pipeline — except that a release that leaves promotion to a person (`promotion.mode: manual`)
 * only builds, registers a candidate and runs a canary, none of which a promotion or rollback
 * touches; it does not hold its pipeline against them (it would refuse every promotion through
 * the API while the next commit builds). It does hold it against the next release and a reconcile.
 */
function blocks(holder: Holder, wanted: HoldKind): boolean {
  return !(holder.kind === "release" && wanted === "api" && holder.promotesByHand());
}

interface Holder {
  kind: HoldKind;
  /** Read only when the API asks: every claim of a release asks too, with a thousand releases running. */
  promotesByHand(): boolean;
  phrase: string;
}

interface RunningRow {
  pipeline: string;
  kind: "release" | "reconcile";
  id: string;
}

export function createPipelineHolds(db: Database): PipelineHolds {
  const running = db.prepare(`
    SELECT pipeline, 'release' AS kind, id FROM releases WHERE status = 'running'
    UNION ALL
    SELECT pipeline, 'reconcile' AS kind, CAST(id AS TEXT) AS id FROM reconciles WHERE status = 'running'`);
  const specOf = db.prepare(`SELECT spec_json FROM releases WHERE id = ?`).pluck();
  const forApi = new Map<string, PipelineLease>();

  const holders = (): Array<[string, Holder]> => [
    ...(running.all() as RunningRow[]).map((row): [string, Holder] => [
      row.pipeline,
      row.kind === "release"
        ? { kind: "release", promotesByHand: () => promotesByHand((specOf.get(row.id) as string | undefined) ?? "{}"), phrase: `release ${row.id} is running` }
        : { kind: "reconcile", promotesByHand: () => false, phrase: "a reconcile is running" },
    ]),
    ...[...forApi.values()].map((lease): [string, Holder] => [lease.pipeline, { kind: "api", promotesByHand: () => false, phrase: lease.holder }]),
  ];

  const blocking = (wanted: HoldKind): Map<string, string> => {
    const out = new Map<string, string>();
    for (const [pipeline, holder] of holders()) if (!out.has(pipeline) && blocks(holder, wanted)) out.set(pipeline, holder.phrase);
    return out;
  };

  return {
    blocking,
    tryHoldForApi(pipeline, holder) {
      const heldBy = blocking("api").get(pipeline);
      if (heldBy !== undefined) return { heldBy };
      let released = false;
      const lease: PipelineLease = {
        pipeline,
        holder,
        release() {
          if (released) return;
          released = true;
          if (forApi.get(pipeline) === lease) forApi.delete(pipeline);
        },
      };
      forApi.set(pipeline, lease);
      return { lease };
    },
    heldForApi: () => forApi.size,
  };
}

function promotesByHand(specJson: string): boolean {
  const spec = JSON.parse(specJson) as { promotion?: { mode?: string } };
  return spec.promotion?.mode === "manual";
}
