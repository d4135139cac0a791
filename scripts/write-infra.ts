// Regenerates infra/batchship-pipeline.yml from docs/iam-policy.json (npm run infra).
import { writeFile } from "node:fs/promises";
import { renderPipelineTemplate } from "./pipeline-template.js";

await writeFile(new URL("../infra/batchship-pipeline.yml", import.meta.url), renderPipelineTemplate());
process.stdout.write("wrote infra/batchship-pipeline.yml\n");
