import type { Emulator } from "../emulator/index.js";

/** AWS calls of one release or one job definition name that reached moto, from the emulator's record. */
export function releaseCalls(emulator: Emulator, releaseId: string, pipeline: string) {
  const forwarded = emulator.calls.filter((c) => c.forwarded);
  return {
    startBuild: forwarded.filter((c) => c.operation === "StartBuild" && String(c.input.idempotencyToken ?? "").startsWith(`${releaseId}-`)).length,
    candidateRegistrations: forwarded.filter((c) => c.operation === "RegisterJobDefinition" && c.input.jobDefinitionName === `${pipeline}-canary`).length,
    promotions: forwarded.filter((c) => c.operation === "RegisterJobDefinition" && c.input.jobDefinitionName === pipeline).length,
    submitJob: forwarded.filter((c) => c.operation === "SubmitJob" && String(c.input.jobName ?? "").startsWith(`batchship-${releaseId}`)).length,
  };
}
