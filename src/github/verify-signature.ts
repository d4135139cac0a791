import { Webhooks } from "@octokit/webhooks";

export type SignatureVerifier = (rawBody: string, signatureHeader: string) => Promise<boolean>;

/**
 * Checks `X-Hub-Signature-256` against every configured secret (more than one during a
 * rotation: add the new secret, switch GitHub over, remove the old one). @octokit/webhooks
 * computes the HMAC over the raw body and compares in constant time; its verify throws on
 * empty input, which counts as a mismatch here.
 */
export function createSignatureVerifier(secrets: readonly string[]): SignatureVerifier {
  if (secrets.length === 0) throw new Error("createSignatureVerifier: at least one secret is required");
  const verifiers = secrets.map((secret) => new Webhooks({ secret }));
  return async (rawBody, signatureHeader) => {
    if (!signatureHeader.startsWith("sha256=")) return false;
    let matched = false;
    // Every secret is tried, matched or not, so timing does not tell which secret matched.
    for (const webhooks of verifiers) {
      if (await webhooks.verify(rawBody, signatureHeader).catch(() => false)) matched = true;
    }
    return matched;
  };
}
