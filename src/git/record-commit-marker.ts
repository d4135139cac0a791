/**
 * How a commit batchship made is recognised, so that it never starts a release (loop
 * prevention). Pure and free of simple-git: the webhook service calls these on push payloads.
 */

export const RECORD_TRAILER = "Batchship-Record";
export const DEFAULT_RELEASES_BRANCH = "batchship/releases";

/** The trailer every ledger commit ends with; its value is the pipeline the commit is about. */
export function recordTrailer(pipeline: string): string {
  return `${RECORD_TRAILER}: ${pipeline}`;
}

/** The full message of a ledger commit: subject, optional body, then the marker trailer. */
export function recordCommitMessage(pipeline: string, subject: string, body?: string): string {
  const parts = [subject.split("\n")[0] ?? subject];
  if (body !== undefined && body.trim() !== "") parts.push(body.trim());
  parts.push(recordTrailer(pipeline));
  return `${parts.join("\n\n")}\n`;
}

/**
 * True when a commit message carries batchship's marker in its trailer block (the last
 * paragraph), the way `git interpret-trailers` reads trailers. A mention of the word elsewhere in
 * a person's message does not count.
 */
export function isBatchshipRecordCommit(message: string): boolean {
  return recordPipelineOf(message) !== undefined;
}

/** The pipeline a ledger commit is about, or undefined for any other commit. */
export function recordPipelineOf(message: string): string | undefined {
  const paragraphs = message.replace(/\r\n/g, "\n").trim().split(/\n\s*\n/);
  const trailers = paragraphs.length > 1 ? paragraphs.at(-1) : undefined;
  if (trailers === undefined) return undefined;
  const pattern = new RegExp(`^${RECORD_TRAILER}:\\s*(\\S+)\\s*$`, "im");
  return pattern.exec(trailers)?.[1];
}

/**
 * True when a push (its `ref`, as in GitHub's push event: `refs/heads/<branch>`) goes to a
 * releases branch. Such a push is reconciled, never released.
 */
export function isReleasesBranchPush(ref: string, releasesBranches: readonly string[] = [DEFAULT_RELEASES_BRANCH]): boolean {
  const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : ref;
  return releasesBranches.includes(branch);
}

