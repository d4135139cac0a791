import { execFileSync } from "node:child_process";

/**
 * moto's version, asked of the Python on PATH. `moto_server` has no --version flag, so this
 * assumes it comes from the same Python installation (what `pip install 'moto[server]'` gives).
 */
export function motoVersion(): string {
  for (const python of ["python3", "python"]) {
    try {
      return execFileSync(python, ["-c", "import moto; print(moto.__version__)"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      // try the next name
    }
  }
  return "unknown";
}

export function describeEnvironment(now = new Date()): string {
  return `moto ${motoVersion()}, Node ${process.version}, ${now.toISOString().slice(0, 10)}`;
}
