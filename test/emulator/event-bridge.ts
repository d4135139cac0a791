import { randomUUID } from "node:crypto";
import type { JobStatus, ScriptedJob } from "./scripted-job.js";

export interface EventBridge {
  /**
   * Jobs submitted from now on on a queue scripted with `runForMs` report their state changes to
   * this queue (a queue URL of moto's SQS), shaped as EventBridge's "Batch Job State Change"
   * events, as the rule infra/batchship-pipeline.yml makes would deliver them.
   */
  deliverTo(queueUrl: string): void;
  /** The next `count` events are lost on the way (a rule or queue misconfigured for a while). */
  loseNext(count: number): void;
  /** Every event delivered so far (lost ones not included). */
  delivered(): readonly DeliveredEvent[];
  /** Stops delivering and forgets what was delivered; pending deliveries are dropped. */
  clear(): void;
}

export interface DeliveredEvent {
  jobId: string;
  status: JobStatus;
  at: number;
}

/**
 * Plays EventBridge for the layer: the layer decides when a scripted job changes state (it is
 * the layer that overlays moto's jobs), so it is the one that can announce it. No event for the
 * submission itself, as on AWS. Events go straight to moto's SQS, so they are not recorded as
 * the project's calls.
 */
export class EventBridgeStandIn implements EventBridge {
  private queueUrl: string | undefined;
  private lose = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sent: DeliveredEvent[] = [];

  constructor(
    private readonly motoEndpoint: string,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  deliverTo(queueUrl: string): void {
    this.queueUrl = queueUrl;
  }

  loseNext(count: number): void {
    this.lose += count;
  }

  delivered(): readonly DeliveredEvent[] {
    return this.sent;
  }

  clear(): void {
    this.queueUrl = undefined;
    this.lose = 0;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.sent.length = 0;
  }

  /** A SubmitJob was accepted. Only jobs whose end is a moment in time (runForMs) are announced. */
  jobSubmitted(job: ScriptedJob | undefined, input: { jobName: string; jobQueue: string }): void {
    const queueUrl = this.queueUrl;
    if (queueUrl === undefined || job === undefined || job.endsAt() <= job.submittedAt) return;
    const children = job.arraySize === undefined ? [undefined] : [...Array(job.arraySize).keys()];
    const idOf = (index: number | undefined): string => (index === undefined ? job.jobId : `${job.jobId}:${index}`);
    // The children start at once (RUNNABLE → STARTING → RUNNING, one event for the last here).
    this.at(job.submittedAt + 10, () => children.map((index) => ({ jobId: idOf(index), status: "RUNNING" as JobStatus })), queueUrl, input);
    // They end when the script says; the parent's end comes after its children's, as on AWS.
    this.at(job.endsAt() + 5, () => [
      ...(job.arraySize === undefined ? [] : children.map((index) => ({ jobId: idOf(index), status: job.child(index ?? 0).status }))),
      { jobId: job.jobId, status: job.parent().status },
    ], queueUrl, input);
  }

  private at(when: number, changes: () => Array<{ jobId: string; status: JobStatus }>, queueUrl: string, input: { jobName: string; jobQueue: string }): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void (async () => {
        for (const change of changes()) await this.send(queueUrl, change, input);
      })().catch((error: unknown) => console.error("EventBridge stand-in failed:", error));
    }, Math.max(0, when - Date.now()));
    this.timers.add(timer);
  }

  private async send(queueUrl: string, change: { jobId: string; status: JobStatus }, input: { jobName: string; jobQueue: string }): Promise<void> {
    if (this.queueUrl !== queueUrl) return;
    if (this.lose > 0) {
      this.lose--;
      return;
    }
    const jobArn = `arn:aws:batch:${this.region}:${this.accountId}:job/${change.jobId}`;
    const jobQueue = input.jobQueue.startsWith("arn:") ? input.jobQueue : `arn:aws:batch:${this.region}:${this.accountId}:job-queue/${input.jobQueue}`;
    const event = {
      version: "0",
      id: randomUUID(),
      "detail-type": "Batch Job State Change",
      source: "aws.batch",
      account: this.accountId,
      time: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      region: this.region,
      resources: [jobArn],
      detail: { jobArn, jobName: input.jobName, jobId: change.jobId, jobQueue, status: change.status, attempts: [], dependsOn: [], parameters: {} },
    };
    const response = await fetch(`${this.motoEndpoint}/`, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "AmazonSQS.SendMessage",
        // moto routes on the credential scope and does not check the signature.
        authorization: `AWS4-HMAC-SHA256 Credential=emulator/20240101/${this.region}/sqs/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`SendMessage to ${queueUrl}: HTTP ${response.status} ${text.slice(0, 300)}`);
    this.sent.push({ jobId: change.jobId, status: change.status, at: Date.now() });
  }
}
