// Regenerates buildspec.yml from the buildspec StartBuild sends (npm run buildspec).
import { writeFile } from "node:fs/promises";
import { BUILDSPEC } from "../src/aws/buildspec.js";

await writeFile(new URL("../buildspec.yml", import.meta.url), BUILDSPEC);
process.stdout.write("wrote buildspec.yml\n");
