import { z } from "zod";
import { TAG } from "../../release/tags.js";

const RESERVED_TAG_PREFIX = "batchship:";
// AWS Batch: at most 50 tags on a resource, batchship's own included. Reserving room for every
// batchship tag keeps a revision under the limit whatever stage tags it later.
const BATCH_TAG_LIMIT = 50;
export const MAX_USER_TAGS = BATCH_TAG_LIMIT - Object.keys(TAG).length;
// AWS tag keys: 1-128 characters; values: 0-256. Letters, digits, spaces and + - = . _ : / @.
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

/** Tags on every registered revision (and, with propagateTags, its jobs' tasks). */
export const JobDefinitionTagsSpec = z
  .record(z.string(), z.string(), { error: "tags must map names to strings" })
  .superRefine((tags, ctx) => {
    const keys = Object.keys(tags);
    for (const key of keys) {
      const problem = key.startsWith(RESERVED_TAG_PREFIX)
        ? `tag keys starting with "${RESERVED_TAG_PREFIX}" are reserved for batchship's own tags`
        : key.length > 128
          ? `tag keys must be at most 128 characters, got ${key.length}`
          : !TAG_KEY.test(key)
            ? "tag keys may hold letters, digits, spaces and + - = . _ : / @"
            : undefined;
      // The key is the mistake, not its value: point the editor there.
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, path: [key], params: { at: "key" } });
      const value = tags[key] ?? "";
      if (value.length > 256) {
        ctx.addIssue({ code: "custom", message: `tag values must be at most 256 characters, got ${value.length}`, path: [key] });
      } else if (!TAG_VALUE.test(value)) {
        ctx.addIssue({ code: "custom", message: "tag values may hold letters, digits, spaces and + - = . _ : / @", path: [key] });
      }
    }
    if (keys.length > MAX_USER_TAGS) {
      ctx.addIssue({
        code: "custom",
        message: `at most ${MAX_USER_TAGS} tags: AWS Batch allows ${BATCH_TAG_LIMIT} per resource and batchship's own batchship:* tags take the other ${BATCH_TAG_LIMIT - MAX_USER_TAGS}, got ${keys.length}`,
      });
    }
  });
