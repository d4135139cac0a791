/**
 * The flood of bench/webhook-flood.ts, in a process of its own so that its sockets do not
 * delay the pushes whose latency is measured. Prints one JSON line once every connection closed.
 * Arguments: port, connections.
 */
import { startSlowBodyFlood } from "../test/support/slow-body-flood.js";

const MIB = 1024 * 1024;
const [port, count] = process.argv.slice(2).map(Number);
const flood = startSlowBodyFlood({ port: port ?? 0, count: count ?? 12, declaredBytes: 23 * MIB, burstBytes: 22 * MIB, dribbleMs: 200 });
// Bounded: the service's request timeout ends every connection; this is the backstop.
const backstop = setTimeout(() => flood.stop(), 60_000);
await flood.closed;
clearTimeout(backstop);
process.stdout.write(`${JSON.stringify({ connections: flood.connections, bytesSent: flood.bytesSent() })}\n`);
