/**
 * Starts a command inside cgroups, without a shell: `node cgroup-launcher.js <cgroup.procs
 * files…> -- <command> <args…>`. It moves itself into each group first, so the command and
 * everything it starts are born inside them (no process runs a moment outside its limits), then
 * runs the command with this process's stdio, passes on SIGTERM, SIGINT and SIGHUP, and ends
 * the way the command ended: its exit code, or the same signal.
 *
 * Exits 125 when it cannot join a group, 127 when the command is not found, 126 when it cannot
 * be started (the codes a shell and `docker run` use), saying why on stderr.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname } from "node:path";

const args = process.argv.slice(2);
const split = args.indexOf("--");
const procsFiles = split < 0 ? [] : args.slice(0, split);
const [command, ...commandArgs] = split < 0 ? [] : args.slice(split + 1);
if (command === undefined) {
  process.stderr.write("batchship cgroup launcher: usage: cgroup-launcher <cgroup.procs files…> -- <command> <args…>\n");
  process.exit(125);
}
for (const file of procsFiles) {
  try {
    writeFileSync(file, `${process.pid}\n`);
  } catch (error) {
    process.stderr.write(`batchship: could not join the cgroup ${dirname(file)}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(125);
  }
}
const child = spawn(command, commandArgs, { stdio: "inherit" });
const forwarded = ["SIGTERM", "SIGINT", "SIGHUP"] as const;
for (const signal of forwarded) process.on(signal, () => child.kill(signal));
child.on("error", (error: NodeJS.ErrnoException) => {
  process.stderr.write(`batchship: could not start ${command}: ${error.message}\n`);
  process.exit(error.code === "ENOENT" ? 127 : 126);
});
child.on("exit", (code, signal) => {
  if (signal === null) process.exit(code ?? 1);
  // The same end as the command's, so whoever waits on this process sees the signal.
  for (const name of forwarded) process.removeAllListeners(name);
  process.kill(process.pid, signal);
});
