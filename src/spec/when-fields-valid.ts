import type { z } from "zod";

/**
 * A cross-field check runs only when the fields it compares parsed cleanly. Zod's default skips
 * it whenever *any* field of the object failed, which would hide this problem until the user has
 * fixed an unrelated one.
 */
export const whenFieldsValid =
  (...keys: string[]) =>
  (payload: z.core.ParsePayload): boolean =>
    typeof payload.value === "object" &&
    payload.value !== null &&
    !payload.issues.some((issue) => keys.includes(String(issue.path?.[0])));
