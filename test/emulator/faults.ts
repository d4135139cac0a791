import type { FaultKind } from "./aws-errors.js";

export interface Faults {
  /** The next `times` calls of `operation` ("*" for any) get a throttling error, a bare 429 or a 500, without reaching moto. */
  throttle(operation: string, times: number, kind?: FaultKind): void;
  /** The next `times` calls of `operation` reach moto (the side effect happens), then the client gets a 500: a lost response. */
  failAfterForwarding(operation: string, times: number): void;
  /** Delays every reply by `ms`. */
  latency(ms: number): void;
  clear(): void;
}

interface Rule {
  operation: string;
  remaining: number;
  kind: FaultKind;
}

/** Fault rules, consumed in the order they were added. */
export class FaultPlan implements Faults {
  private before: Rule[] = [];
  private after: Rule[] = [];
  delayMs = 0;

  throttle(operation: string, times: number, kind: FaultKind = "throttling"): void {
    this.before.push({ operation, remaining: times, kind });
  }

  failAfterForwarding(operation: string, times: number): void {
    this.after.push({ operation, remaining: times, kind: "500" });
  }

  latency(ms: number): void {
    this.delayMs = ms;
  }

  clear(): void {
    this.before = [];
    this.after = [];
    this.delayMs = 0;
  }

  /** The fault to answer with instead of forwarding, if one is due (and uses it up). */
  takeBeforeForwarding(operation: string): FaultKind | undefined {
    return take(this.before, operation);
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
