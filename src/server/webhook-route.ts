import type { IncomingHttpHeaders } from "node:http";
import { isWellFormedSignature, type SignatureVerifier } from "../github/verify-signature.js";
import type { BodyBudget } from "./body-budget.js";
import { HttpError } from "./http-error.js";
import { readBody } from "./read-body.js";
import type { Reply } from "./respond.js";
import type { Route } from "./router.js";

export interface VerifiedDelivery {
  id: string;
  event: string;
  payload: unknown;
}

/**
 * `POST /webhook`: the checks GitHub's delivery must pass, cheapest first, each with its own
 * status: 415 content type, 401 missing or malformed signature, 413 size, 503 bodies over the
 * budget, 401 bad signature, 400 headers or JSON. The signature is computed as the body arrives.
 * Nothing is written before all of them pass; `receive` decides and stores.
 */
export function webhookRoute(options: {
  verify: SignatureVerifier;
  maxBodyBytes: number;
  budget: BodyBudget;
  receive: (delivery: VerifiedDelivery) => Promise<Reply>;
  onRejected: (status: number) => void;
}): Route {
  return {
    method: "POST",
    path: "/webhook",
    async handler({ raw }) {
      try {
        const type = (raw.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
        if (type !== "application/json") {
          throw new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "Webhook content type must be application/json (set it in the GitHub webhook settings)");
        }
        const signature = header(raw.headers["x-hub-signature-256"]);
        if (signature === undefined) throw new HttpError(401, "SIGNATURE_MISSING", "X-Hub-Signature-256 is missing", { connection: "close" });
        if (!isWellFormedSignature(signature)) {
          throw new HttpError(401, "SIGNATURE_MALFORMED", "X-Hub-Signature-256 must be sha256= and 64 hex digits", { connection: "close" });
        }
        const check = options.verify.begin();
        const held = await readBody(raw, { limit: options.maxBodyBytes, budget: options.budget, onChunk: (chunk) => check.update(chunk) });
        // The bytes count against the budget until the delivery is answered: the text and the
        // parsed payload made from them are held that long.
        try {
          if (!check.matches(signature)) {
            throw new HttpError(401, "SIGNATURE_MISMATCH", "X-Hub-Signature-256 does not match the body and any configured secret");
          }
          return await receiveVerified(raw.headers, held.body.toString("utf8"), options.receive);
        } finally {
          held.release();
        }
      } catch (error) {
        if (error instanceof HttpError) options.onRejected(error.status);
        throw error;
      }
    },
  };
}

async function receiveVerified(headers: IncomingHttpHeaders, body: string, receive: (delivery: VerifiedDelivery) => Promise<Reply>): Promise<Reply> {
  const id = header(headers["x-github-delivery"]);
  const event = header(headers["x-github-event"]);
  if (id === undefined || !/^[A-Za-z0-9-]{1,100}$/.test(id)) throw new HttpError(400, "DELIVERY_ID_INVALID", "X-GitHub-Delivery is missing or invalid");
  if (event === undefined || !/^[a-z_]{1,64}$/.test(event)) throw new HttpError(400, "EVENT_INVALID", "X-GitHub-Event is missing or invalid");
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    throw new HttpError(400, "MALFORMED_JSON", "The body is not valid JSON");
  }
  return receive({ id, event, payload });
}

function header(value: string | string[] | undefined): string | undefined {
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined || one === "" ? undefined : one;
}
