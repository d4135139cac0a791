import type { Backend } from "../release/ports.js";
import { createBatchPlatform } from "./batch-platform.js";
import { createCloudWatchLogReader } from "./cloudwatch-log-reader.js";
import { createAwsClients, type AwsClientOptions, type AwsClients } from "./clients.js";
import { createCodeBuildBuilder } from "./codebuild-builder.js";
import { checkAwsEnvironment } from "./doctor.js";
import { createEcrRegistry } from "./ecr-registry.js";
import { createAwsLinks } from "./links.js";

export { createAwsClients, MISSING_REGION_MESSAGE, type AwsClientOptions, type AwsClients } from "./clients.js";
export { checkAwsEnvironment } from "./doctor.js";
export { toBatchshipError } from "./errors.js";
export { AWS_IAM_ACTIONS } from "./sdk-commands.js";

export interface AwsBackendOptions {
  /**
   * How long a DescribeJobs or BatchGetBuilds waits for more ids from other releases before it is
   * sent (it goes at once with 100). 0, the default, merges only what is asked in the same turn
   * of the event loop; the service waits a little (start-service.ts).
   */
  batchWindowMs?: number;
  /** Where the backend says why something cost more calls than it could have; default: nowhere. */
  debug?: (message: string) => void;
}

/** The AWS implementation of the engine's ports, over clients built from `options`. */
export function createAwsBackend(options: AwsClientOptions = {}, backendOptions: AwsBackendOptions = {}): Backend & { clients: AwsClients } {
  const clients = createAwsClients(options);
  return createAwsBackendFromClients(clients, backendOptions);
}

export function createAwsBackendFromClients(clients: AwsClients, options: AwsBackendOptions = {}): Backend & { clients: AwsClients } {
  const batching = options.batchWindowMs === undefined ? {} : { batchWindowMs: options.batchWindowMs };
  let region: string | undefined;
  // Links are synchronous: remember the region once resolved. Resolving reads only env and
  // config files; a failure is left for the first real call to report.
  const trackRegion = async (): Promise<string> => (region = await clients.region());
  trackRegion().catch(() => undefined);
  return {
    clients: { ...clients, region: trackRegion },
    builder: createCodeBuildBuilder(clients.codebuild, batching),
    registry: createEcrRegistry(clients.ecr, trackRegion),
    platform: createBatchPlatform(clients, { ...batching, ...(options.debug === undefined ? {} : { debug: options.debug }) }),
    logs: createCloudWatchLogReader(clients.logs),
    links: createAwsLinks(() => region),
    doctor: (spec) => checkAwsEnvironment(clients, spec),
  };
}
