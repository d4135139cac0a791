import picomatch from "picomatch";
import { BatchshipError } from "../errors.js";

export interface CommitFacts {
  /** Full 40-hex commit sha. */
  sha: string;
  /** Branch name without `refs/heads/`. */
  branch: string;
}

const FULL_SHA = /^[0-9a-f]{40}$/i;
// Docker: a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
const MAX_TAG_LENGTH = 128;

/** A branch name as it may appear inside a Docker tag: `feature/JIRA-1` → `feature-JIRA-1`. */
export function sanitizeBranch(branch: string): string {
  return branch.replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^[.-]+/, "");
}

/**
 * Expands the spec's tag templates for one commit. Tags that come out identical are listed once,
 * since a registry rejects or ignores the duplicate anyway.
 */
export function renderTags(templates: string[], facts: CommitFacts): string[] {
  if (!FULL_SHA.test(facts.sha)) {
    throw new BatchshipError(
      "USAGE",
      `Could not render image tags: "${facts.sha}" is not a full 40-character commit sha`,
    );
  }
  const values: Record<string, string> = {
    sha: facts.sha,
    shortSha: facts.sha.slice(0, 7),
    branch: sanitizeBranch(facts.branch),
  };
  const tags = templates.map((template) => {
    const tag = template
      .replace(/\{(sha|shortSha|branch)\}/g, (_, name: string) => values[name] ?? "")
      // A tag may not start with '.' or '-' (e.g. "{branch}-{shortSha}" on an odd branch name).
      .replace(/^[.-]+/, "")
      .slice(0, MAX_TAG_LENGTH);
    if (tag === "") {
      throw new BatchshipError(
        "SPEC_INVALID",
        `Could not render image tag "${template}": branch "${facts.branch}" leaves no valid tag characters`,
        { hint: "add {sha} or {shortSha} to the template, or a fixed prefix such as 'branch-{branch}'" },
      );
    }
    return tag;
  });
  return [...new Set(tags)];
}

/**
 * Whether a branch is tracked by the spec's `source.branches`. Globs follow picomatch (`release/*`
 * matches one level, `release/**` any depth); a pattern starting with `!` excludes.
 */
export function branchMatches(patterns: string[], branch: string): boolean {
  return branchMatcher(patterns)(branch);
}

// Compiling a glob costs far more than matching it, and the service matches every push against
// the same few pipelines' patterns: compiled matchers are kept per pattern list.
const matchers = new Map<string, (branch: string) => boolean>();

function branchMatcher(patterns: string[]): (branch: string) => boolean {
  const key = patterns.join("\0");
  let matcher = matchers.get(key);
  if (matcher === undefined) {
    const include = patterns.filter((p) => !p.startsWith("!"));
    const exclude = patterns.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
    const options = { dot: true };
    const included = include.length > 0 ? picomatch(include, options) : () => false;
    const excluded = exclude.length > 0 ? picomatch(exclude, options) : () => false;
    matcher = (branch) => included(branch) && !excluded(branch);
    if (matchers.size >= 1000) matchers.clear();
    matchers.set(key, matcher);
  }
  return matcher;
}
