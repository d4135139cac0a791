import type { EngineContext } from "../../src/release/context.js";
import type { ReleaseLedger } from "../../src/release/gitops/ledger.js";
import type { ReleaseEvent } from "../../src/release/events.js";
import { makeSpec } from "../support/spec.js";
import type { EngineHarness } from "../release/harness.js";

/** A GitOps pipeline on its own queue, its records in `repository`. */
export function gitopsPipeline(name: string, repository: string, mode: "auto" | "manual" = "auto") {
  return makeSpec({
    name,
    image: { repository: name },
    jobDefinition: { name },
    canary: { jobQueue: name },
    promotion: { mode, gitops: { repository, branch: "batchship/releases", path: "releases/{pipeline}.json" } },
  });
}

/** An engine on the emulator that writes to `ledger` (one "machine"). */
export function gitopsEngine(h: EngineHarness, ledger: ReleaseLedger): { ctx: EngineContext; events: ReleaseEvent[] } {
  const { ctx, events } = h.engine();
  return { ctx: { ...ctx, ledger }, events };
}
