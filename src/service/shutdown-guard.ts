import { ReleaseInterrupted, type Backend, type Sleep } from "../release/ports.js";

/**
 * Thrown inside a release when the service is shutting down; the release stays `running` and
 * resumes on the next start. The engine reports the stage it stopped as `interrupted`.
 */
export class ShutdownError extends ReleaseInterrupted {
  override readonly name = "ShutdownError";
  constructor() {
    super("The service is shutting down; the release resumes on the next start");
  }
}

/**
 * The backend with a check before every call: once `signal` aborts, the call in flight still
 * returns (and the engine records what it did), but the next one is never made.
 */
export function guardBackend(backend: Backend, signal: AbortSignal): Backend {
  const guard = <T extends object>(port: T): T =>
    new Proxy(port, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (signal.aborted) return Promise.reject(new ShutdownError());
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return { ...backend, builder: guard(backend.builder), registry: guard(backend.registry), platform: guard(backend.platform) };
}

/** The engine's pauses between polls end at once on shutdown; a pause the engine cut short (`cut`) just ends. */
export function abortableSleep(signal: AbortSignal): Sleep {
  return (ms, cut) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(new ShutdownError());
      if (cut?.aborted === true) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        cut?.removeEventListener("abort", onCut);
      };
      const onAbort = (): void => {
        done();
        reject(new ShutdownError());
      };
      const onCut = (): void => {
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        resolve();
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
      cut?.addEventListener("abort", onCut, { once: true });
    });
}
