import type { Backend, Clock } from "../release/ports.js";
import { createBatchPlatform } from "./batch-platform.js";
import { createCloudWatchLogReader } from "./cloudwatch-log-reader.js";
import { createAwsClients, type AwsClientOptions, type AwsClients } from "./clients.js";
import { createCodeBuildBuilder } from "./codebuild-builder.js";
import { checkAwsEnvironment } from "./doctor.js";
import { createEcrRegistry } from "./ecr-registry.js";
import { createAwsLinks } from "./links.js";
import { keptRevisionHints, revisionHintScope, type RevisionHintStore } from "./revision-hints.js";

export { createAwsClients, MISSING_REGION_MESSAGE, type AwsClientOptions, type AwsClients } from "./clients.js";
export { checkAwsEnvironment } from "./doctor.js";
export { toBatchshipError } from "./errors.js";
export { AWS_IAM_ACTIONS } from "./sdk-commands.js";
export { createRevisionHintFile, revisionHintFilePath } from "./revision-hint-file.js";
export type { RevisionHintStore } from "./revision-hints.js";

export interface AwsBackendOptions {
  /**
   * How long a DescribeJobs or BatchGetBuilds waits for more ids from other releases before it is
   * sent (it goes at once with 100). 0, the default, merges only what is asked in the same turn
   * of the event loop; the service waits a little (start-service.ts).
   */
  batchWindowMs?: number;
  /** Where the backend says why something cost more calls than it could have; default: nowhere. */
  debug?: (message: string) => void;
  /**
   * Where the newest revision number of each job definition name is saved for the next process
   * (the service's store, the CLI's and the Action's cache file); default: nowhere, so a new
   * process's first lookup of a name with a long history takes one call more.
   */
  revisionHints?: RevisionHintStore;
  /** How old what the backend remembers and saves is (lookup hints); default: the system clock. */
  clock?: Clock;
}

/** The AWS implementation of the engine's ports, over clients built from `options`. */
export function createAwsBackend(options: AwsClientOptions = {}, backendOptions: AwsBackendOptions = {}): Backend & { clients: AwsClients } {
  const clients = createAwsClients(options);
  return createAwsBackendFromClients(clients, backendOptions, options.endpoint);
}

function createAwsBackendFromClients(clients: AwsClients, options: AwsBackendOptions, endpoint: string | undefined): Backend & { clients: AwsClients } {
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
    platform: createBatchPlatform(clients, {
      ...batching,
      ...(options.debug === undefined ? {} : { debug: options.debug }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.revisionHints === undefined
        ? {}
        : { revisionHints: keptRevisionHints(options.revisionHints, revisionHintScope(trackRegion, process.env, endpoint), options.debug, options.clock) }),
    }),
    logs: createCloudWatchLogReader(clients.logs),
    links: createAwsLinks(() => region),
    doctor: (spec) => checkAwsEnvironment(clients, spec),
  };
}
