import { isMap, type Document, type LineCounter } from "yaml";
import type { z } from "zod";
import { formatPath, type PathSegment, type SpecProblem } from "./problem.js";
import { closestKey, knownKeysAt } from "./suggest.js";
import { keyOffsetOf, locate, valueOffset } from "./yaml-locate.js";

export interface IssueContext {
  file: string;
  doc: Document;
  lineCounter: LineCounter;
  schema: z.ZodType;
}

/** Turns zod issues into positioned problems: one per issue, one per unknown key. */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], ctx: IssueContext): SpecProblem[] {
  // A typo (`comand:`) is also a required key left out; the did-you-mean of the unknown key says
  // both, so the "missing required key" for the key it suggests is not repeated.
  const suggested = new Set(
    issues.flatMap((issue) => {
      if (issue.code !== "unrecognized_keys") return [];
      const path = toSegments(issue.path);
      const known = knownKeysAt(ctx.schema, path);
      return issue.keys.flatMap((key) => {
        const suggestion = closestKey(key, known);
        return suggestion === undefined ? [] : [formatPath([...path, suggestion])];
      });
    }),
  );
  return issues
    .filter((issue) => !(issue.code !== "custom" && issue.input === undefined && suggested.has(formatPath(toSegments(issue.path)))))
    .flatMap((issue) => issueToProblems(issue, ctx));
}

function issueToProblems(issue: z.core.$ZodIssue, ctx: IssueContext): SpecProblem[] {
  const path = toSegments(issue.path);
  const at = (segments: readonly PathSegment[], offset: number, message: string): SpecProblem => {
    const { line, col } = ctx.lineCounter.linePos(offset);
    return { file: ctx.file, line, col, path: formatPath(segments), message };
  };

  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(ctx.schema, path);
    return issue.keys.map((key) => {
      const keyPath = [...path, key];
      const located = locate(ctx.doc, keyPath);
      const offset = keyOffsetOf(located);
      const suggestion = closestKey(key, known);
      const hint = suggestion
        ? ` (did you mean "${suggestion}"?)`
        : known.length > 0
          ? `; expected one of: ${known.join(", ")}`
          : "";
      return at(keyPath, offset, `unknown key "${key}"${hint}`);
    });
  }

  const located = locate(ctx.doc, path);
  if (located.depth < path.length) {
    // The key is absent; a present key with a null value is found and handled below.
    const parent = located.depth === path.length - 1 && (located.node === null || isMap(located.node));
    const offset = keyOffsetOf(located);
    const key = path[path.length - 1];
    // A check of our own says why the key is needed; zod's own only that it is missing.
    const message = parent && issue.code !== "custom" ? `missing required key "${String(key)}"` : issue.message;
    return [at(path, offset, message)];
  }

  const pointsAtKey =
    issue.code === "invalid_key" || (issue.code === "custom" && issue.params?.["at"] === "key");
  const offset = pointsAtKey ? keyOffsetOf(located) : valueOffset(located);
  const message =
    issue.code === "invalid_key"
      ? `invalid key "${String(path[path.length - 1])}": ${issue.issues.map((i) => i.message).join("; ")}`
      : issue.message;
  return [at(path, offset, message)];
}

function toSegments(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((segment) => (typeof segment === "number" ? segment : String(segment)));
}
