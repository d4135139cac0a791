import type { EngineContext } from "../context.js";
import type { ReleaseLedger } from "./ledger.js";

/** Tells the caller about a commit written to the ledger (the CLI prints it, the service logs it). */
export function observeCommit(ctx: EngineContext, ledger: ReleaseLedger, pipeline: string, commit: string | null, subject: string): void {
  if (commit === null) return;
  const { repository, branch, path } = ledger.where(pipeline);
  ctx.observe({ type: "ledger-commit", commit, subject, repository, branch, path });
}
