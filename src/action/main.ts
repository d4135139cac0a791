// The file the runner starts (action.yml `runs.main`, bundled into dist/action/index.js).
import { run } from "./index.js";

await run();
