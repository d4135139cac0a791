import type { CanarySpec } from "../spec/schema.js";
import type { StatusCounts } from "../release/ports.js";

/** Fewest successes that pass: ceil(size × rate), with a tolerance for float noise. */
export function requiredSuccesses(canary: Pick<CanarySpec, "arraySize" | "minSuccessRate">): number {
  return Math.ceil(canary.arraySize * canary.minSuccessRate - 1e-9);
}

export function passes(canary: Pick<CanarySpec, "arraySize" | "minSuccessRate">, counts: StatusCounts): boolean {
  return counts.SUCCEEDED >= requiredSuccesses(canary);
}

/** True once so many children failed that the rate can no longer be reached: stop early. */
export function cannotPass(canary: Pick<CanarySpec, "arraySize" | "minSuccessRate">, counts: StatusCounts): boolean {
  return canary.arraySize - counts.FAILED < requiredSuccesses(canary);
}
