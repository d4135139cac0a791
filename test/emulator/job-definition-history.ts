import { TAG } from "../../src/release/tags.js";

/**
 * A long history of job definition revisions, registered straight in moto so that set-up never
 * shows up among the recorded calls: `count` revisions of `name`, all but the newest `active`
 * (and `keptActive`) deregistered (as retention leaves a name), each with the tags `tags` gives
 * its number. Batch numbers them 1..count. With `anchor`, revision 1 carries
 * batchship:newest-revision (the number given, or `count`), as the AWS backend leaves a name it
 * registers to. moto fails registrations that run concurrently: seed one name at a time.
 */
export async function seedJobDefinitionHistory(
  motoEndpoint: string,
  name: string,
  options: {
    count: number;
    active: number;
    tags?: (revision: number) => Record<string, string>;
    anchor?: true | number;
    /** Older revisions left ACTIVE all the same (retention keeps a candidate name's anchor, a rollback target…). */
    keptActive?: (revision: number) => boolean;
  },
): Promise<void> {
  const send = async (path: string, body: unknown) => {
    const response = await fetch(`${motoEndpoint}${path}`, {
      method: "POST",
      // moto routes on the credential scope and does not check the signature.
      headers: {
        "content-type": "application/json",
        authorization: "AWS4-HMAC-SHA256 Credential=emulator/20240101/us-east-1/batch/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`seeding ${name}: ${path} answered ${response.status}: ${await response.text()}`);
    const text = await response.text();
    return (text === "" ? {} : JSON.parse(text)) as { jobDefinitionArn?: string };
  };
  const arns: string[] = [];
  for (let n = 1; n <= options.count; n++) {
    const registered = await send("/v1/registerjobdefinition", {
      jobDefinitionName: name,
      type: "container",
      platformCapabilities: ["EC2"],
      containerProperties: { image: `history/${name}:${n}`, command: ["true"], resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "512" }] },
      ...(options.tags === undefined ? {} : { tags: options.tags(n) }),
    });
    arns.push(String(registered.jobDefinitionArn));
  }
  for (const [index, arn] of arns.slice(0, Math.max(0, options.count - options.active)).entries()) {
    if (options.keptActive?.(index + 1) !== true) await send("/v1/deregisterjobdefinition", { jobDefinition: arn });
  }
  if (options.anchor !== undefined && arns[0] !== undefined) {
    await tagSeeded(motoEndpoint, arns[0], { [TAG.newestRevision]: String(options.anchor === true ? options.count : options.anchor) });
  }
}

/** TagResource straight in moto (set-up, not among the recorded calls). */
export async function tagSeeded(motoEndpoint: string, arn: string, tags: Record<string, string>): Promise<void> {
  const response = await fetch(`${motoEndpoint}/v1/tags/${encodeURIComponent(arn)}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: "AWS4-HMAC-SHA256 Credential=emulator/20240101/us-east-1/batch/aws4_request, SignedHeaders=host, Signature=0",
    },
    body: JSON.stringify({ tags }),
  });
  if (!response.ok) throw new Error(`tagging ${arn}: answered ${response.status}: ${await response.text()}`);
}
