import type { EnvironmentVariable } from "./image-push.js";

export interface BuildFailure {
  /** The phase that fails (default BUILD). */
  phase?: string;
  message?: string;
  /** CodeBuild's context status code (default COMMAND_EXECUTION_ERROR). */
  statusCode?: string;
}

export interface BuildScripts {
  /** The next StartBuild's build ends FAILED in the given phase, and pushes no image. Calls queue up. */
  failNext(failure?: BuildFailure): void;
  /** Builds started from now on report IN_PROGRESS, with advancing phases, for their first `polls` BatchGetBuilds. */
  slow(polls: number): void;
  /** Builds started from now on report IN_PROGRESS until the returned function is called. */
  hold(): () => void;
  clear(): void;
}

/** A SUCCEEDED build without an image digest ran some other buildspec and pushed nothing. */
export type BuildOutcome = { status: "SUCCEEDED"; imageDigest?: string } | { status: "FAILED"; phase: string; statusCode: string; message: string };

/** A build the layer saw start, and how it is scripted to go. */
export interface BuildRecord {
  id: string;
  outcome: BuildOutcome;
  slowPolls: number;
  /** BatchGetBuilds answers that included this build. */
  polls: number;
  overrides: EnvironmentVariable[];
  /** Set by `hold()`: the build shows IN_PROGRESS while the gate is closed. */
  gate?: { open: boolean };
  /** StopBuild reached the build while it ran: from then on it shows STOPPED. */
  stopped?: boolean;
}

export class BuildLifecycle implements BuildScripts {
  private failures: BuildFailure[] = [];
  private slowPolls = 0;
  private gate: { open: boolean } | undefined;
  private readonly builds = new Map<string, BuildRecord>();
  private readonly byToken = new Map<string, string>();

  failNext(failure: BuildFailure = {}): void {
    this.failures.push(failure);
  }

  slow(polls: number): void {
    this.slowPolls = polls;
  }

  hold(): () => void {
    const gate = { open: false };
    this.gate = gate;
    return () => {
      gate.open = true;
      if (this.gate === gate) this.gate = undefined;
    };
  }

  clear(): void {
    this.failures = [];
    this.slowPolls = 0;
    if (this.gate) this.gate.open = true;
    this.gate = undefined;
  }

  /** The scripted failure for the build being started now, if any (used up). */
  takeFailure(): BuildOutcome | undefined {
    const failure = this.failures.shift();
    if (!failure) return undefined;
    return {
      status: "FAILED",
      phase: failure.phase ?? "BUILD",
      statusCode: failure.statusCode ?? "COMMAND_EXECUTION_ERROR",
      message: failure.message ?? "Error while executing command: docker build. Reason: exit status 1",
    };
  }

  started(id: string, outcome: BuildOutcome, overrides: EnvironmentVariable[], idempotencyToken: string | undefined): BuildRecord {
    const record: BuildRecord = { id, outcome, slowPolls: this.slowPolls, polls: 0, overrides, ...(this.gate ? { gate: this.gate } : {}) };
    this.builds.set(id, record);
    if (idempotencyToken) this.byToken.set(idempotencyToken, id);
    return record;
  }

  find(id: string): BuildRecord | undefined {
    return this.builds.get(id);
  }

  /** The build an earlier StartBuild with this idempotency token started. */
  findByToken(token: unknown): BuildRecord | undefined {
    const id = typeof token === "string" ? this.byToken.get(token) : undefined;
    return id === undefined ? undefined : this.builds.get(id);
  }
}
