/**
 * A batchship process that submits a local array job whose children run `sh -c <script>` (see
 * process-tool.ts), prints the job id and then waits to be killed: the owner that dies.
 * Usage: node --import tsx owner-process.ts <state dir> <array size> <script> [NAME=value…]
 */
import { createLocalBackend, readLocalOptions } from "../../src/local/index.js";
import { createProcessTool } from "./process-tool.js";

const [stateDir = "", size = "1", script = "", ...variables] = process.argv.slice(2);
const backend = createLocalBackend(
  { ...readLocalOptions({ PATH: process.env["PATH"] ?? "", BATCHSHIP_STATE_DIR: stateDir }), concurrency: 8 },
  { tool: createProcessTool() },
);
const { arn } = await backend.platform.registerJobDefinition(
  "orphans",
  {
    type: "container",
    platformCapabilities: ["EC2"],
    containerProperties: { image: "local/none@sha256:" + "0".repeat(64), command: ["sh", "-c", script] },
  },
  {},
);
const { jobId } = await backend.platform.submitJob({
  jobName: "orphans",
  jobQueue: "local",
  jobDefinitionArn: arn,
  arraySize: Number(size),
  parameters: {},
  environment: Object.fromEntries(variables.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)])),
  tags: {},
});
process.stdout.write(`${jobId}\n`);
setInterval(() => undefined, 60_000);
