import { userInfo } from "node:os";

/** Who a person's promote, rollback or unhold is recorded as. */
export function actorOf(env: Readonly<Record<string, string | undefined>>): string {
  const named = env.BATCHSHIP_ACTOR?.trim() || env.GITHUB_ACTOR?.trim();
  if (named) return named;
  try {
    return userInfo().username;
  } catch {
    return "unknown user";
  }
}
