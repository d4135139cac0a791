import type { Sleep } from "../release/ports.js";

/**
 * Pauses that end on a beat shared by every release of the service: a pause of `ms` ends at the
 * first multiple of `ms` on the clock that is at least `ms / 2` away, so it lasts `ms` on average
 * and every release pausing the same interval wakes at the same moment. Their polls then ask in
 * the same instant, and the AWS backend sends one DescribeJobs (or BatchGetBuilds) for up to 100
 * of them (src/aws/batch-loader.ts) instead of one per release. Spreading the polls out would
 * do the opposite: more calls, each carrying fewer jobs.
 */
export function onPollBeat(sleep: Sleep, now: () => number): Sleep {
  return (ms, signal) => {
    if (!(ms > 0)) return sleep(ms, signal);
    const at = now();
    const end = Math.ceil((at + ms / 2) / ms) * ms;
    return sleep(end - at, signal);
  };
}
