import { Histogram, type Registry } from "prom-client";

/**
 * How often the loop is sampled, in ms: the resolution of the default metrics' own monitor
 * (`batchship_nodejs_eventloop_lag_*`), so that both read alike: a sample is the time between
 * two timer turns, 10 ms on an idle loop.
 */
export const EVENT_LOOP_SAMPLE_MS = 10;

/**
 * Bucket bounds in seconds. 0.05 is the service's lag target: the share of samples above it
 * reads off one bucket, so `histogram_quantile` is not needed to tell whether p99 is within it.
 */
export const EVENT_LOOP_DELAY_BUCKETS = [0.011, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1, 5];

export const EVENT_LOOP_DELAY_METRIC = "batchship_event_loop_delay_seconds";

/**
 * Event-loop delay as a Prometheus histogram. The default metrics give it only as percentiles of
 * the time since the last scrape, which cannot be added up across scrapes or instances: a p99 over
 * an hour, or over a fleet, needs the buckets (`histogram_quantile(0.99,
 * rate(batchship_event_loop_delay_seconds_bucket[1h]))`, summed `by (le)` across instances).
 * Every sample is observed as it is taken, so the counts are exact, not read back from a
 * histogram of percentiles.
 */
export function recordEventLoopDelay(registry: Registry, now: () => number = () => performance.now()): { stop(): void } {
  const histogram = new Histogram({
    name: EVENT_LOOP_DELAY_METRIC,
    help: `Time between two turns of a ${EVENT_LOOP_SAMPLE_MS} ms timer on the event loop: ${EVENT_LOOP_SAMPLE_MS} ms plus whatever held the loop`,
    buckets: EVENT_LOOP_DELAY_BUCKETS,
    registers: [registry],
  });
  let last = now();
  const timer = setInterval(() => {
    const at = now();
    histogram.observe((at - last) / 1000);
    last = at;
  }, EVENT_LOOP_SAMPLE_MS);
  // A sampler is no reason for the process to stay up.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
