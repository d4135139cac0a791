import { formatProblem, readSpecFile } from "../spec/index.js";

export interface ValidateIo {
  /** Receives whole lines, each ending in "\n" (stream.write semantics). */
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/**
 * `batchship validate <files…>`: every problem of every file on stderr as
 * `file:line:col: path: message`, `<file>: ok` on stdout for the valid ones.
 * Exit code 2 (SPEC_INVALID) when any file has a problem.
 */
export async function validateCommand(files: string[], io: ValidateIo): Promise<0 | 2> {
  if (files.length === 0) {
    io.stderr("batchship validate: no spec files given (e.g. batchship validate pipelines/*.yml)\n");
    return 2;
  }
  let failed = false;
  for (const file of files) {
    const result = await readSpecFile(file);
    if (result.ok) {
      for (const warning of result.warnings) io.stderr(`${formatProblem({ ...warning, message: `warning: ${warning.message}` })}\n`);
      io.stdout(`${file}: ok\n`);
      continue;
    }
    failed = true;
    for (const problem of result.problems) io.stderr(`${formatProblem(problem)}\n`);
  }
  return failed ? 2 : 0;
}
