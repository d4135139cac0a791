import { BatchClient, DeregisterJobDefinitionCommand, DescribeJobDefinitionsCommand, RegisterJobDefinitionCommand } from "@aws-sdk/client-batch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, testClientConfig, type Emulator } from "./index.js";

let emulator: Emulator;
let batch: BatchClient;
const arns: string[] = [];
beforeAll(async () => {
  emulator = await startEmulator();
  batch = new BatchClient(testClientConfig(emulator));
  for (let n = 1; n <= 4; n++) {
    const registered = await batch.send(
      new RegisterJobDefinitionCommand({ jobDefinitionName: "listed", type: "container", containerProperties: { image: `img:${n}`, resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "512" }] } }),
    );
    arns.push(registered.jobDefinitionArn ?? "");
  }
  await batch.send(new DeregisterJobDefinitionCommand({ jobDefinition: arns[1] }));
});
afterAll(async () => {
  await emulator?.close();
});

const revisions = (output: { jobDefinitions?: { revision?: number | undefined }[] | undefined }) => (output.jobDefinitions ?? []).map((d) => d.revision);

describe("DescribeJobDefinitions as Batch documents it", () => {
  it("pages a name oldest first, applying status after paging", async () => {
    const first = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: "listed", status: "ACTIVE", maxResults: 2 }));
    expect(revisions(first)).toEqual([1]);
    expect(first.nextToken).toBeDefined();
    const second = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: "listed", status: "ACTIVE", maxResults: 2, nextToken: first.nextToken }));
    expect(revisions(second)).toEqual([3, 4]);
    expect(second.nextToken).toBeUndefined();
  });

  it("describes name:revision and ARNs in any status, and nothing for numbers never registered", async () => {
    const output = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitions: ["listed:2", arns[3] ?? "", "listed:9"] }));
    expect((output.jobDefinitions ?? []).map((d) => [d.revision, d.status])).toEqual([[2, "INACTIVE"], [4, "ACTIVE"]]);
  });

  it("refuses more than 100 entries, and entries with other members", async () => {
    const many = Array.from({ length: 101 }, (_, i) => `listed:${i + 1}`);
    await expect(batch.send(new DescribeJobDefinitionsCommand({ jobDefinitions: many }))).rejects.toMatchObject({ name: "ClientException" });
    await expect(batch.send(new DescribeJobDefinitionsCommand({ jobDefinitions: ["listed:1"], status: "ACTIVE" }))).rejects.toMatchObject({ name: "ClientException" });
    await expect(batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: "listed", maxResults: 101 }))).rejects.toMatchObject({ name: "ClientException" });
  });

  it("answers nothing of a revision Batch has deleted (180 days after its deregistration), in either form", async () => {
    await batch.send(new RegisterJobDefinitionCommand({ jobDefinitionName: "aged-out", type: "container", containerProperties: { image: "img:1", resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "512" }] } }));
    const second = await batch.send(
      new RegisterJobDefinitionCommand({ jobDefinitionName: "aged-out", type: "container", containerProperties: { image: "img:2", resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "512" }] } }),
    );
    await batch.send(new DeregisterJobDefinitionCommand({ jobDefinition: second.jobDefinitionArn }));

    emulator.jobDefinitions.deleteDeregistered([second.jobDefinitionArn ?? ""]);

    expect(revisions(await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitions: ["aged-out:1", "aged-out:2"] })))).toEqual([1]);
    expect(revisions(await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: "aged-out" })))).toEqual([1]);
  });
});
