import { describe, expect, it } from "vitest";
import { commitStatusFor } from "../../src/service/status-text.js";

const IMAGE = { uri: `repo@sha256:${"a".repeat(64)}`, digest: `sha256:${"a".repeat(64)}`, key: "k".repeat(64), reusedFrom: `batchship-key-${"k".repeat(64)}` };
const CANARY = { jobId: "j", jobQueue: "q", summary: { SUCCEEDED: 3 }, fallbackUsed: false, failedChildren: [], result: "passed" as const };
const promoted = (image: unknown) =>
  commitStatusFor({
    kind: "finished",
    jobDefinition: "etl",
    result: { status: "promoted", canary: CANARY as never, production: { arn: "arn", revision: 7 }, image: image as never },
  });

describe("commit status text of a release that reused an image", () => {
  it("names the commit that built the image when it is known, else says the content was the same", () => {
    expect(promoted({ ...IMAGE, reusedFromCommit: "0123456789abcdef0123456789abcdef01234567" })).toEqual({
      state: "success",
      description: "image reused from 0123456, canary 3/3 passed, promoted etl:7",
    });
    expect(promoted(IMAGE).description).toBe("image reused (same content), canary 3/3 passed, promoted etl:7");
    expect(promoted({ uri: IMAGE.uri, digest: IMAGE.digest, key: IMAGE.key }).description).toBe("canary 3/3 passed, promoted etl:7");
  });
});
