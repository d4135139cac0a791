import { readFile } from "node:fs/promises";
import { isMap, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { z } from "zod";
import { findDuplicateKeys } from "./duplicate-keys.js";
import { issueMessage } from "./issue-messages.js";
import { issuesToProblems } from "./issues-to-problems.js";
import { compareProblems, formatPath, type SpecProblem } from "./problem.js";
import { deprecationWarnings } from "./job-definition/deprecations.js";
import { PipelineSpec } from "./schema.js";
import { keyOffsetOf, locate } from "./yaml-locate.js";

/** `warnings`: what is valid but should change (deprecated settings), positioned like problems. */
export type LoadResult = { ok: true; spec: PipelineSpec; warnings: SpecProblem[] } | { ok: false; problems: SpecProblem[] };

/**
 * Parses and validates a pipeline spec, collecting every problem (YAML syntax, duplicate keys,
 * schema) with its line and column, sorted top to bottom. Never throws for bad input.
 */
export function parseSpec(text: string, file: string): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const problemAt = (offset: number, path: string, message: string): SpecProblem => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col, path, message };
  };

  // Validating a half-parsed tree would bury the syntax error under follow-on complaints.
  if (doc.errors.length > 0) {
    // The parser often reports one mistake several ways at the same spot; the first is enough.
    const firstPerSpot = doc.errors.filter((e, i) => doc.errors.findIndex((o) => o.pos[0] === e.pos[0]) === i);
    return fail(firstPerSpot.map((e) => problemAt(e.pos[0], "(root)", `invalid YAML: ${e.message}`)));
  }

  const problems = findDuplicateKeys(doc, lineCounter).map((d) =>
    problemAt(d.offset, formatPath(d.path), d.message),
  );

  const top = doc.contents;
  if (top === null || (isScalar(top) && top.value === null && top.source === "")) {
    return fail([problemAt(0, "(root)", `the file is empty: a pipeline spec needs ${requiredKeys().join(", ")}`)]);
  }
  if (!isMap(top)) {
    const got = isScalar(top) ? "a single value" : "a list";
    return fail([problemAt(top.range?.[0] ?? 0, "(root)", `expected a mapping of settings (apiVersion: batchship/v1, …), got ${got}`)]);
  }

  const data = toJS(doc);
  if (!data.ok) return fail([problemAt(0, "(root)", data.message)]);

  const result = PipelineSpec.safeParse(data.value, { error: issueMessage });
  if (!result.success) {
    problems.push(...issuesToProblems(result.error.issues, { file, doc, lineCounter, schema: PipelineSpec }));
  }
  if (problems.length > 0 || !result.success) return fail(problems);
  const warnings = deprecationWarnings(result.data.jobDefinition).map((w) =>
    problemAt(keyOffsetOf(locate(doc, w.path)), formatPath(w.path), w.message),
  );
  return { ok: true, spec: result.data, warnings: warnings.sort(compareProblems) };
}

/** Reads and validates a spec file; an unreadable file is one problem at 1:1. */
export async function readSpecFile(file: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return fail([{ file, line: 1, col: 1, path: "(root)", message: `cannot read the file: ${osReason(error)}` }]);
  }
  return parseSpec(text, file);
}

function fail(problems: SpecProblem[]): LoadResult {
  return { ok: false, problems: [...problems].sort(compareProblems) };
}

function toJS(doc: Document): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    // The alias limit guards against "billion laughs" expansion in untrusted specs.
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
  } catch (error) {
    return { ok: false, message: `invalid YAML: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function requiredKeys(): string[] {
  return Object.entries(PipelineSpec.shape)
    .filter(([, field]) => !(field instanceof z.ZodDefault || field instanceof z.ZodOptional))
    .map(([key]) => key);
}

/** "ENOENT: no such file or directory, open 'x.yml'" → "no such file or directory (ENOENT)". */
function osReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = "code" in error && typeof error.code === "string" ? error.code : undefined;
  const match = /^[A-Z]+: ([^,]+)/.exec(error.message);
  const reason = match?.[1] ?? error.message;
  return code ? `${reason} (${code})` : reason;
}
