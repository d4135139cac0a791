/**
 * The AWS the tests talk to: moto_server for the services' state, and a thin HTTP layer in front
 * of it for what moto cannot do — scripted job and build lifecycles, fault injection, and
 * fixes where moto's wire format differs from AWS's. The SDK clients send real HTTP to it.
 */
import { batchInterceptors } from "./batch-interceptors.js";
import { batchTagLimitInterceptors } from "./batch-tag-limit.js";
import { buildListingInterceptors } from "./build-listing.js";
import { ChildLogs, logsInterceptors } from "./child-logs.js";
import { chain } from "./interceptor.js";
import { jobDefinitionKindInterceptors } from "./job-definition-kinds.js";
import { jobDefinitionListingInterceptors } from "./job-definition-listing.js";
import { BuildLifecycle, type BuildScripts } from "./build-scripts.js";
import { codebuildInterceptors } from "./codebuild-interceptors.js";
import { ecrInterceptors } from "./ecr-interceptors.js";
import { EventBridgeStandIn, type EventBridge } from "./event-bridge.js";
import { FaultPlan, type Faults } from "./faults.js";
import { JobLifecycle, type JobScripts } from "./job-scripts.js";
import { startLayer, type RecordedCall } from "./layer.js";
import { startMoto } from "./moto.js";

export { testClientConfig, emulatorEnv, type TestClientConfig } from "./client-config.js";
export { createFixtures } from "./fixtures.js";
export { deployStack } from "./cloudformation.js";
export type { RecordedCall } from "./layer.js";
export type { JobScripts } from "./job-scripts.js";
export type { BuildScripts, BuildFailure } from "./build-scripts.js";
export type { Faults } from "./faults.js";
export type { EventBridge, DeliveredEvent } from "./event-bridge.js";
export type { FaultKind } from "./aws-errors.js";
export { STUCK_RUNNABLE_REASON, CONTAINER_EXITED_REASON } from "./scripted-job.js";

export interface Emulator {
  /** URL of the layer in front of moto; give it to the SDK clients as `endpoint`. */
  endpoint: string;
  /** moto itself, bypassing the layer (set-up that must not show up in `calls`). */
  motoEndpoint: string;
  region: string;
  accountId: string;
  /** Every AWS request that reached the layer, in arrival order (faulted ones too, with faulted: true). */
  calls: RecordedCall[];
  /** Calls of the operation that reached moto (a fault answered before forwarding does not count). */
  count(operation: string): number;
  jobs: JobScripts;
  builds: BuildScripts;
  faults: Faults;
  /** Plays EventBridge: state changes of scripted jobs, sent to an SQS queue of moto. */
  events: EventBridge;
  jobDefinitions: {
    /**
     * Ages deregistered revisions past Batch's 180 days: from now on they read as never
     * registered (job-definition-listing.ts). Give only revisions that are INACTIVE.
     */
    deleteDeregistered(arns: readonly string[]): void;
  };
  /** Clears scripts, faults and recorded calls (moto's state stays). */
  reset(): void;
  /** Stops the layer and moto. */
  close(): Promise<void>;
}

export const EMULATOR_REGION = "us-east-1";
/** The account moto answers as. */
export const EMULATOR_ACCOUNT_ID = "123456789012";

export async function startEmulator(options: { motoEnv?: Record<string, string> } = {}): Promise<Emulator> {
  const moto = await startMoto(options.motoEnv);
  const jobs = new JobLifecycle();
  const builds = new BuildLifecycle();
  const faults = new FaultPlan();
  const calls: RecordedCall[] = [];
  const events = new EventBridgeStandIn(moto.endpoint, EMULATOR_REGION, EMULATOR_ACCOUNT_ID);

  const childLogs = new ChildLogs(moto.endpoint);
  const deletedJobDefinitions = new Set<string>();
  let layer;
  try {
    layer = await startLayer({
      motoEndpoint: moto.endpoint,
      interceptors: {
        ...chain(
          batchTagLimitInterceptors(moto.endpoint),
          chain(jobDefinitionListingInterceptors(EMULATOR_REGION, EMULATOR_ACCOUNT_ID, deletedJobDefinitions), chain(jobDefinitionKindInterceptors(), batchInterceptors(jobs, childLogs, events))),
        ),
        ...logsInterceptors(childLogs),
        ...codebuildInterceptors(builds, moto.endpoint),
        ...buildListingInterceptors(),
        ...ecrInterceptors(moto.endpoint),
      },
      faults,
      calls,
    });
  } catch (error) {
    await moto.stop();
    throw error;
  }
  const { endpoint, close: closeLayer } = layer;

  return {
    endpoint,
    motoEndpoint: moto.endpoint,
    region: EMULATOR_REGION,
    accountId: EMULATOR_ACCOUNT_ID,
    calls,
    count: (operation) => calls.filter((call) => call.operation === operation && call.forwarded).length,
    jobs,
    builds,
    faults,
    events,
    jobDefinitions: {
      deleteDeregistered(arns) {
        for (const arn of arns) deletedJobDefinitions.add(arn);
      },
    },
    reset() {
      jobs.clear();
      events.clear();
      builds.clear();
      faults.clear();
      // Emptied in place: tests may hold a reference to the array.
      calls.length = 0;
    },
    async close() {
      events.clear();
      await closeLayer();
      await moto.stop();
    },
  };
}
