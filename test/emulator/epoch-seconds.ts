const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * moto's CodeBuild answers timestamps as ISO strings; the protocol (and the JS SDK, which
 * rejects them) wants epoch seconds. Rewrites every ISO-looking string value, at any depth.
 */
export function isoToEpochSeconds(value: unknown): any {
  if (typeof value === "string" && ISO_TIMESTAMP.test(value)) return Date.parse(value) / 1000;
  if (Array.isArray(value)) return value.map(isoToEpochSeconds);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, isoToEpochSeconds(inner)]));
  }
  return value;
}
