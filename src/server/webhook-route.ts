import type { SignatureVerifier } from "../github/verify-signature.js";
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
 * status: 415 content type, 401 missing signature, 413 size, 401 bad signature, 400 headers
 * or JSON. Nothing is written before all of them pass; `receive` decides and stores.
 */
export function webhookRoute(options: {
  verify: SignatureVerifier;
  maxBodyBytes: number;
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
        if (signature === undefined) throw new HttpError(401, "SIGNATURE_MISSING", "X-Hub-Signature-256 is missing");
        const body = (await readBody(raw, options.maxBodyBytes)).toString("utf8");
        if (!(await options.verify(body, signature))) {
          throw new HttpError(401, "SIGNATURE_MISMATCH", "X-Hub-Signature-256 does not match the body and any configured secret");
        }
        const id = header(raw.headers["x-github-delivery"]);
        const event = header(raw.headers["x-github-event"]);
        if (id === undefined || !/^[A-Za-z0-9-]{1,100}$/.test(id)) throw new HttpError(400, "DELIVERY_ID_INVALID", "X-GitHub-Delivery is missing or invalid");
        if (event === undefined || !/^[a-z_]{1,64}$/.test(event)) throw new HttpError(400, "EVENT_INVALID", "X-GitHub-Event is missing or invalid");
        let payload: unknown;
        try {
          payload = JSON.parse(body);
        } catch {
          throw new HttpError(400, "MALFORMED_JSON", "The body is not valid JSON");
        }
        return await options.receive({ id, event, payload });
      } catch (error) {
        if (error instanceof HttpError) options.onRejected(error.status);
        throw error;
      }
    },
  };
}

function header(value: string | string[] | undefined): string | undefined {
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined || one === "" ? undefined : one;
}
