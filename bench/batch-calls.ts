import type { RecordedCall } from "../test/emulator/index.js";

/**
 * Batch API calls that reached moto, from a slice of `emulator.calls`. A call the layer faulted
 * before forwarding never cost AWS anything, so only forwarded calls count; the bench injects no
 * faults, so in practice this is every Batch request the SDK sent.
 */
export function batchCallsIn(calls: readonly RecordedCall[]): RecordedCall[] {
  return calls.filter((call) => call.service === "batch" && call.forwarded);
}

/** `{ DescribeJobs: 3, ListJobs: 1 }`, for explaining a total. */
export function byOperation(calls: readonly RecordedCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) counts[call.operation] = (counts[call.operation] ?? 0) + 1;
  return counts;
}

export function formatOperations(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([operation, n]) => `${operation} ${n}`)
    .join(", ");
}
