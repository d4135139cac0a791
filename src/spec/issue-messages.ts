import type { z } from "zod";

/**
 * Messages for zod's built-in checks, in the words of a YAML file rather than of JavaScript.
 * Passed to `safeParse` as its error map: messages written in the schema still win.
 */
export function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const got = describeValue(issue.input);
  switch (issue.code) {
    case "invalid_type": {
      if (issue.expected === "int") return `must be a whole number, got ${got}`;
      const quoteHint =
        issue.expected === "string" && (typeof issue.input === "number" || typeof issue.input === "boolean")
          ? ` (put it in quotes if it is meant as text: "${String(issue.input)}")`
          : "";
      return `expected ${expectedName(issue.expected)}, got ${got}${quoteHint}`;
    }
    case "too_small":
      return tooSmall(issue.origin, Number(issue.minimum), issue.inclusive ?? true, got);
    case "too_big":
      return tooBig(issue.origin, Number(issue.maximum), issue.inclusive ?? true, got);
    case "invalid_value": {
      const options = issue.values.map((v) => JSON.stringify(v));
      const want = options.length === 1 ? options[0] : `one of ${options.join(", ")}`;
      return `must be ${want}, got ${got}`;
    }
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}, got ${got}`;
    case "invalid_format":
      return issue.format === "regex" && "pattern" in issue
        ? `must match ${String(issue.pattern)}, got ${got}`
        : `is not a valid ${issue.format}, got ${got}`;
    default:
      return undefined;
  }
}

export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value";
  if (typeof value === "string") {
    const text = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `"${text}"`;
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return typeof value;
}

function expectedName(expected: string): string {
  switch (expected) {
    case "string":
      return "text";
    case "number":
      return "a number";
    case "boolean":
      return "true or false";
    case "object":
    case "record":
      return "a mapping";
    case "array":
      return "a list";
    default:
      return expected;
  }
}

function tooSmall(origin: string, min: number, inclusive: boolean, got: string): string {
  if (origin === "string") return min <= 1 ? "must not be empty" : `must be at least ${min} characters`;
  if (origin === "array" || origin === "set") {
    return min <= 1 ? "must list at least one item" : `must list at least ${min} items`;
  }
  return inclusive ? `must be at least ${min}, got ${got}` : `must be greater than ${min}, got ${got}`;
}

function tooBig(origin: string, max: number, inclusive: boolean, got: string): string {
  if (origin === "string") return `must be at most ${max} characters`;
  if (origin === "array" || origin === "set") {
    return max === 1 ? "must list exactly one item" : `must list at most ${max} items`;
  }
  return inclusive ? `must be at most ${max}, got ${got}` : `must be less than ${max}, got ${got}`;
}
