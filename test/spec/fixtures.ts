/** A minimal valid spec; tests edit single lines, so the line numbers below are stable. */
export const VALID = [
  "apiVersion: batchship/v1", // 1
  "name: etl", // 2
  "source:", // 3
  "  repository: acme/etl", // 4
  "image:", // 5
  "  repository: etl", // 6
  "build:", // 7
  "  project: etl-build", // 8
  "jobDefinition:", // 9
  "  name: etl", // 10
  "canary:", // 11
  "  jobQueue: etl-queue", // 12
].join("\n");

/** VALID with `line` (1-based) replaced by `replacement` (which may span several lines, or be dropped). */
export function withLine(line: number, replacement: string | null): string {
  const lines = VALID.split("\n");
  lines.splice(line - 1, 1, ...(replacement === null ? [] : [replacement]));
  return lines.join("\n");
}

export function withAppended(...lines: string[]): string {
  return [VALID, ...lines].join("\n");
}
