import type { JobPlatform } from "../../src/release/ports.js";

/** A job platform for a release that must end before it: any call fails the test with `why`. */
export function unreachablePlatform(why: string): JobPlatform {
  const unexpected = (): never => {
    throw new Error(why);
  };
  return {
    listJobDefinitionRevisions: unexpected,
    newestJobDefinitionRevisions: unexpected,
    registerJobDefinition: unexpected,
    tagJobDefinition: unexpected,
    deregisterJobDefinition: unexpected,
    findJobs: unexpected,
    submitJob: unexpected,
    describeJob: unexpected,
    listChildren: unexpected,
    stopJob: unexpected,
  };
}
