/**
 * Git's own limit on a stalled HTTP(S) transfer: under 1 kB/s for `seconds`, the fetch or push
 * fails, and is retried like any network failure, instead of holding its release (and with it
 * its pipeline) forever. A server that accepts the connection and never answers is one. Five
 * minutes by default: a host may send next to nothing while it packs a large repository.
 */
export function stalledTransferEnv(seconds = 300): Record<string, string> {
  return { GIT_HTTP_LOW_SPEED_LIMIT: "1000", GIT_HTTP_LOW_SPEED_TIME: String(seconds) };
}
