/** One thing wrong with a spec file, positioned for an editor or a CI log (1-based). */
export interface SpecProblem {
  file: string;
  line: number;
  col: number;
  /** Dotted path to the setting, `image.tags[0]`; `(root)` for the document itself. */
  path: string;
  message: string;
}

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `["image", "tags", 0]` → `image.tags[0]`; keys that are not identifiers are quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return "(root)";
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `file:line:col: path: message`, the format compilers use, so editors and CI link it. */
export function formatProblem(p: SpecProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path}: ${p.message}`;
}

export function compareProblems(a: SpecProblem, b: SpecProblem): number {
  return a.line - b.line || a.col - b.col;
}
