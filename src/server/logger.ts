export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` (release id, pipeline…) to every line. */
  child(fields: LogFields): Logger;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /token|secret|password|authorization|signature/i;
const REDACTED = "[redacted]";

/**
 * One JSON object per line: a fixed message, variables as fields. Redaction happens here, once,
 * for every line: fields whose name looks secret, and every occurrence of a known secret value
 * anywhere in the line (an error message that quotes a URL with a token, say).
 */
export function createLogger(options: {
  write: (line: string) => void;
  level?: LogLevel;
  secrets?: readonly string[];
  now?: () => number;
  fields?: LogFields;
}): Logger {
  const min = LEVELS[options.level ?? "info"];
  // As they appear inside a JSON string.
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4).map((s) => JSON.stringify(s).slice(1, -1));
  const now = options.now ?? Date.now;

  const make = (bound: LogFields): Logger => {
    const log = (level: LogLevel, message: string, fields: LogFields = {}): void => {
      if (LEVELS[level] < min) return;
      const entry = { time: new Date(now()).toISOString(), level, msg: message, ...bound, ...fields };
      let line = JSON.stringify(entry, redactKeys);
      for (const secret of secrets) if (line.includes(secret)) line = line.split(secret).join(REDACTED);
      options.write(line);
    };
    return {
      debug: (m, f) => log("debug", m, f),
      info: (m, f) => log("info", m, f),
      warn: (m, f) => log("warn", m, f),
      error: (m, f) => log("error", m, f),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make(options.fields ?? {});
}

function redactKeys(key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, ...("code" in value ? { code: value.code } : {}) };
  if (key !== "" && SECRET_KEY.test(key) && typeof value === "string") return REDACTED;
  return value;
}

/** Turns anything thrown into loggable fields. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { error: error.message, ...(typeof code === "string" ? { errorCode: code } : {}) };
  }
  return { error: String(error) };
}
