import { createHmac, timingSafeEqual, type Hmac } from "node:crypto";

/**
 * A well-formed `X-Hub-Signature-256`: GitHub's `sha256=` and the 64 hex digits of an HMAC-SHA256.
 * Anything else is refused before a byte of the body is read.
 */
const SIGNATURE_HEADER = /^sha256=([0-9a-fA-F]{64})$/;

export function isWellFormedSignature(header: string): boolean {
  return SIGNATURE_HEADER.test(header);
}

/** One body's signature check, fed as its chunks arrive, so no thread hashes a large body in one go. */
export interface SignatureCheck {
  update(chunk: Buffer): void;
  /** Once the whole body was fed: whether `header` is its signature under any configured secret. */
  matches(header: string): boolean;
}

export type SignatureVerifier = ((rawBody: string, signatureHeader: string) => Promise<boolean>) & {
  begin(): SignatureCheck;
};

/**
 * Checks `X-Hub-Signature-256` against every configured secret (more than one during a
 * rotation: add the new secret, switch GitHub over, remove the old one): HMAC-SHA256 over the
 * raw body, compared in constant time.
 */
export function createSignatureVerifier(secrets: readonly string[]): SignatureVerifier {
  if (secrets.length === 0) throw new Error("createSignatureVerifier: at least one secret is required");
  const begin = (): SignatureCheck => {
    const hmacs: Hmac[] = secrets.map((secret) => createHmac("sha256", secret));
    return {
      update(chunk) {
        for (const hmac of hmacs) hmac.update(chunk);
      },
      matches(header) {
        const hex = SIGNATURE_HEADER.exec(header)?.[1];
        // Every secret's digest is computed and compared, matched or not, so timing does not tell which one matched.
        const given = Buffer.from(hex ?? "0".repeat(64), "hex");
        let matched = false;
        for (const hmac of hmacs) if (timingSafeEqual(hmac.digest(), given)) matched = true;
        return hex !== undefined && matched;
      },
    };
  };
  const verify = async (rawBody: string, signatureHeader: string): Promise<boolean> => {
    const check = begin();
    check.update(Buffer.from(rawBody, "utf8"));
    return check.matches(signatureHeader);
  };
  return Object.assign(verify, { begin });
}
