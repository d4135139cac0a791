import type { FaultKind } from "./aws-errors.js";

export interface Faults {
  /** The next `times` calls of `operation` ("*" for any) get a throttling error, a bare 429 or a 500, without reaching moto. */
  throttle(operation: string, times: number, kind?: FaultKind): void;
  /** The next `times` calls of `operation` reach moto (the side effect happens), then the client gets a 500: a lost response. */
  failAfterForwarding(operation: string, times: number): void;
  /**
   * A throttling storm: for `forMs` from now, or for the next `calls` calls of `operation` ("*"
   * for any), a `share` (0 to 1) of them, spread evenly, is refused the way the service throttles
   * (`rate`: Batch HTTP 429, CodeBuild ThrottlingException), without reaching moto. `forMs` is
   * measured on `now` (default: real time); a test on a virtual clock passes that clock, so the
   * storm ends as the callers' pauses add up, the way AWS's rate limit lets a caller through
   * once it has waited.
   */
  storm(operation: string, options: StormOptions): void;
  /**
   * A storm by rate: each of `services` ("batch", "codebuild", "ecr"…) accepts `perSecond`
   * calls a second, whatever the operation (one moto is one account), and refuses the rest as
   * the service throttles (`rate`), without reaching moto. AWS limits an account's calls per
   * Region, some per operation (Batch: 50 SubmitJob a second), and EC2 and ECS document the
   * algorithm, a token bucket: here one bucket per service, of `burst` calls (default
   * `perSecond`) refilled at `perSecond`, so a caller sending slower than the rate is never
   * refused and one sending faster is refused for the excess only. Lasts `forMs` on `now`
   * (default: until cleared); a later limit on a service replaces the earlier one.
   */
  rateLimit(services: readonly string[], options: RateLimitOptions): void;
  /** Delays every reply by `ms`. */
  latency(ms: number): void;
  clear(): void;
}

export interface StormOptions {
  share: number;
  forMs?: number;
  calls?: number;
  now?: () => number;
}

export interface RateLimitOptions {
  perSecond: number;
  burst?: number;
  forMs?: number;
  now?: () => number;
}

interface Rule {
  operation: string;
  remaining: number;
  kind: FaultKind;
}

interface Storm {
  operation: string;
  share: number;
  until: number;
  now: () => number;
  callsLeft: number;
  seen: number;
}

interface RateLimit {
  service: string;
  perMs: number;
  burst: number;
  tokens: number;
  refilledAt: number;
  until: number;
  now: () => number;
}

/** Fault rules, consumed in the order they were added. */
export class FaultPlan implements Faults {
  private before: Rule[] = [];
  private after: Rule[] = [];
  private storms: Storm[] = [];
  private rateLimits: RateLimit[] = [];
  delayMs = 0;

  throttle(operation: string, times: number, kind: FaultKind = "throttling"): void {
    this.before.push({ operation, remaining: times, kind });
  }

  failAfterForwarding(operation: string, times: number): void {
    this.after.push({ operation, remaining: times, kind: "500" });
  }

  storm(operation: string, options: StormOptions): void {
    if (!(options.share >= 0 && options.share <= 1)) throw new RangeError("share must be between 0 and 1");
    if (options.forMs === undefined && options.calls === undefined) throw new Error("a storm needs forMs or calls");
    const now = options.now ?? Date.now;
    this.storms.push({
      operation,
      share: options.share,
      until: options.forMs === undefined ? Infinity : now() + options.forMs,
      now,
      callsLeft: options.calls ?? Infinity,
      seen: 0,
    });
  }

  rateLimit(services: readonly string[], options: RateLimitOptions): void {
    if (!(options.perSecond > 0)) throw new RangeError("perSecond must be above 0");
    const burst = options.burst ?? options.perSecond;
    if (!(burst >= 1)) throw new RangeError("burst must be at least 1");
    const now = options.now ?? Date.now;
    const start = now();
    this.rateLimits = this.rateLimits.filter((limit) => !services.includes(limit.service));
    for (const service of services) {
      this.rateLimits.push({
        service,
        perMs: options.perSecond / 1000,
        burst,
        tokens: burst,
        refilledAt: start,
        until: options.forMs === undefined ? Infinity : start + options.forMs,
        now,
      });
    }
  }

  latency(ms: number): void {
    this.delayMs = ms;
  }

  clear(): void {
    this.before = [];
    this.after = [];
    this.storms = [];
    this.rateLimits = [];
    this.delayMs = 0;
  }

  /** The fault to answer with instead of forwarding, if one is due (and uses it up). */
  takeBeforeForwarding(service: string, operation: string): FaultKind | undefined {
    return take(this.before, operation) ?? this.stormFault(operation) ?? this.rateFault(service);
  }

  private rateFault(service: string): FaultKind | undefined {
    this.rateLimits = this.rateLimits.filter((limit) => limit.until > limit.now());
    const limit = this.rateLimits.find((l) => l.service === service);
    if (!limit) return undefined;
    const now = limit.now();
    limit.tokens = Math.min(limit.burst, limit.tokens + (now - limit.refilledAt) * limit.perMs);
    limit.refilledAt = now;
    if (limit.tokens < 1) return "rate";
    limit.tokens -= 1;
    return undefined;
  }

  private stormFault(operation: string): FaultKind | undefined {
    this.storms = this.storms.filter((s) => s.until > s.now() && s.callsLeft > 0);
    const storm = this.storms.find((s) => s.operation === operation || s.operation === "*");
    if (!storm) return undefined;
    storm.callsLeft--;
    // Evenly spread: the call is refused when it carries the running share over a whole number.
    const refused = Math.floor((storm.seen + 1) * storm.share) > Math.floor(storm.seen * storm.share);
    storm.seen++;
    return refused ? "rate" : undefined;
  }

  /** Whether this forwarded call's reply is to be lost (and uses the rule up). */
  takeAfterForwarding(operation: string): boolean {
    return take(this.after, operation) !== undefined;
  }
}

function take(rules: Rule[], operation: string): FaultKind | undefined {
  const rule = rules.find((r) => r.remaining > 0 && (r.operation === operation || r.operation === "*"));
  if (!rule) return undefined;
  rule.remaining--;
  return rule.kind;
}
