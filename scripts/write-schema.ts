// Regenerates pipelines/schema.json from the zod schema (npm run schema).
import { writeFile } from "node:fs/promises";
import { renderPipelineJsonSchema } from "../src/spec/json-schema.js";

const target = new URL("../pipelines/schema.json", import.meta.url);
await writeFile(target, renderPipelineJsonSchema());
process.stdout.write("wrote pipelines/schema.json\n");
