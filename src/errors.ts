/**
 * One error type for the whole tool. `code` is stable and machine-readable; `retryable` tells a
 * caller (the service's workers, the engine's own retry loop) whether the same call may succeed
 * later; `exitCode` is the CLI contract (README "Exit codes").
 */
export type ErrorCode =
  | "USAGE" // bad flag or argument
  | "SPEC_INVALID" // pipeline spec failed validation
  | "GIT" // commit or file could not be read from git
  | "BUILD_FAILED" // the image build ended in a failed state
  | "CANARY_FAILED" // the canary ran and did not reach its success rate
  | "DEADLINE" // a stage ran past its time limit
  | "NOT_PROMOTABLE" // promote asked for a release whose canary did not pass
  | "NOTHING_TO_ROLL_BACK"
  | "CANCELLED" // a person cancelled the release (batchship cancel)
  | "NOTHING_TO_CANCEL" // cancel found no running build or canary for the commit
  | "NO_CANARY" // logs asked for a release whose canary was never submitted
  | "AWS" // an AWS call failed after retries
  | "ENVIRONMENT"; // missing project, queue, repository, tool…

export type ExitCode = 0 | 1 | 2 | 3;

const EXIT_CODES: Record<ErrorCode, ExitCode> = {
  USAGE: 2,
  SPEC_INVALID: 2,
  GIT: 2,
  BUILD_FAILED: 1,
  CANARY_FAILED: 1,
  DEADLINE: 1,
  NOT_PROMOTABLE: 1,
  NOTHING_TO_ROLL_BACK: 1,
  CANCELLED: 1,
  NOTHING_TO_CANCEL: 1,
  NO_CANARY: 1,
  AWS: 3,
  ENVIRONMENT: 3,
};

export interface BatchshipErrorOptions {
  retryable?: boolean;
  hint?: string;
  cause?: unknown;
  /** The AWS error name (e.g. AccessDeniedException), when the cause is an AWS error. */
  awsErrorName?: string;
  /** The service refused the call for its rate (throttling, HTTP 429): retryable, and worth waiting out. */
  throttled?: boolean;
}

export class BatchshipError extends Error {
  override readonly name = "BatchshipError";
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly hint: string | undefined;
  readonly awsErrorName: string | undefined;
  readonly throttled: boolean;

  /** `message` names the failed operation first: "Could not start the CodeBuild build: …". */
  constructor(code: ErrorCode, message: string, options: BatchshipErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.hint = options.hint;
    this.awsErrorName = options.awsErrorName;
    this.throttled = options.throttled ?? false;
  }

  get exitCode(): ExitCode {
    return exitCodeFor(this.code);
  }

  /** The error as scripts read it (`--json`, Action outputs, the service's API). */
  toJSON(): ErrorJson {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.awsErrorName === undefined ? {} : { awsErrorName: this.awsErrorName }),
    };
  }
}

export interface ErrorJson {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  hint?: string;
  awsErrorName?: string;
}

export function exitCodeFor(code: ErrorCode): ExitCode {
  return EXIT_CODES[code];
}

export function isBatchshipError(error: unknown): error is BatchshipError {
  return error instanceof BatchshipError;
}

/** Message plus hint, the way a person should read it. */
export function describeError(error: unknown): string {
  if (error instanceof BatchshipError) {
    const aws = error.awsErrorName ? ` (${error.awsErrorName})` : "";
    return error.hint ? `${error.message}${aws}\n  hint: ${error.hint}` : `${error.message}${aws}`;
  }
  return error instanceof Error ? error.message : String(error);
}
