import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cgroupLauncherArgs } from "../../src/local/cgroup-launcher-command.js";

const root = join(import.meta.dirname, "..", "..");
// The built launcher, as the package ships it: the vitest setup builds build/ from the sources.
const launcher = join(root, "build", "local", "cgroup-launcher.js");

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs the launcher; `whenReady` is called once the command has printed "ready". */
function launch(args: string[], whenReady?: (pid: number) => void): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [launcher, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (whenReady !== undefined && output.includes("ready") && child.pid !== undefined) {
        whenReady(child.pid);
        whenReady = undefined;
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, output }));
  });
}

const node = (script: string) => [process.execPath, "-e", script];

describe("the cgroup launcher", () => {
  it("runs the command with its own output and ends with the command's exit code", async () => {
    expect(await launch(["--", ...node("console.log('out'); console.error('err'); process.exit(3)")])).toEqual({ code: 3, signal: null, output: "out\nerr\n" });
  });

  it("ends with the signal that ended the command", async () => {
    const ended = await launch(["--", ...node("process.kill(process.pid, 'SIGKILL')")]);
    expect(ended.signal).toBe("SIGKILL");
  });

  it("passes SIGTERM on to the command", async () => {
    const ended = await launch(
      ["--", ...node("process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(7); }); console.log('ready'); setInterval(() => {}, 1000);")],
      (pid) => process.kill(pid, "SIGTERM"),
    );
    expect(ended).toEqual({ code: 7, signal: null, output: "ready\ngot SIGTERM\n" });
  });

  it("runs nothing when it cannot join a group, and says which", async () => {
    const ended = await launch([join(root, "no-such-group", "cgroup.procs"), "--", ...node("console.log('ran')")]);
    expect(ended.code).toBe(125);
    expect(ended.output).toMatch(/^batchship: could not join the cgroup .*no-such-group: ENOENT/);
    expect(ended.output).not.toContain("ran");
  });

  it("exits 127 for a command that is not there, 125 without one", async () => {
    expect((await launch(["--", join(root, "no-such-program")])).code).toBe(127);
    expect((await launch([join(root, "cgroup.procs")])).code).toBe(125);
  });

  it("is found beside the code that starts it, built or in the source tree", async () => {
    const built = (await import(join(root, "build", "local", "cgroup-launcher-command.js"))) as { cgroupLauncherArgs: () => string[] | undefined };
    expect(built.cgroupLauncherArgs()).toEqual([launcher]);
    // The tests run the sources, which take the launcher built from them (the test setup builds
    // build/ when a source is newer), else its source through tsx.
    expect([launcher, join(root, "src", "local", "cgroup-launcher.ts")]).toContain(cgroupLauncherArgs()?.at(-1));
  });
});
