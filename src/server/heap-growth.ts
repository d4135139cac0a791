import { setFlagsFromString } from "node:v8";

/**
 * How far past the data a full collection found live V8 may grow the service's heap before the
 * next one, in percent.
 *
 * Left to itself, with memory to spare (V8 sizes its limits from the machine's or the
 * container's memory), V8 grows the heap up to four times the live data while the program
 * allocates fast. A service with 1,000 releases in flight allocates fast (every AWS call is
 * serialized, signed and parsed) over about 60 MB of live data, and its heap reached 220 MB of
 * which most was garbage (docs/benchmarks.md, "Service scale"). At 1.5 times the heap follows
 * the live data instead, V8 collecting more often. Unlike `--max-old-space-size` this is no
 * cap: a service whose live data grows still gets the heap it needs, and does not end with
 * "heap out of memory".
 */
export const HEAP_GROWING_PERCENT = 50;

/** V8's flag; on the command line it may also be spelt with underscores. */
const FLAG = "--heap-growing-percent";

export type HeapGrowth = { percent: number; setBy: "service" | "operator" };

/**
 * Sets V8's heap growing factor for this process, unless the operator set it on `node`'s
 * command line (`node --heap-growing-percent=N …`; NODE_OPTIONS does not take V8 flags like it).
 * The flag is read at each collection, so setting it after V8 started takes effect from the
 * next one; call it once, before the service starts allocating.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv, setFlags: (flags: string) => void = setFlagsFromString): HeapGrowth {
  const args = execArgv.map((arg) => arg.replaceAll("_", "-"));
  const at = args.findIndex((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`));
  if (at >= 0) {
    // `--heap-growing-percent=N` or `--heap-growing-percent N`.
    const value = args[at] === FLAG ? args[at + 1] : args[at]?.slice(FLAG.length + 1);
    return { percent: Number(value), setBy: "operator" };
  }
  setFlags(`${FLAG}=${HEAP_GROWING_PERCENT}`);
  return { percent: HEAP_GROWING_PERCENT, setBy: "service" };
}
