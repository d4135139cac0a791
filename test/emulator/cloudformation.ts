import { motoQueryCall } from "./moto-client.js";

/**
 * Deploys a template into moto's CloudFormation and returns the stack's outputs. A fixture, like
 * the IAM role: batchship itself never calls CloudFormation, so the call goes straight to moto.
 */
export async function deployStack(
  motoEndpoint: string,
  stackName: string,
  templateBody: string,
  parameters: Record<string, string>,
): Promise<Record<string, string>> {
  const fields: Record<string, string> = { Action: "CreateStack", Version: "2010-05-15", StackName: stackName, TemplateBody: templateBody };
  Object.entries(parameters).forEach(([key, value], index) => {
    fields[`Parameters.member.${index + 1}.ParameterKey`] = key;
    fields[`Parameters.member.${index + 1}.ParameterValue`] = value;
  });
  fields["Capabilities.member.1"] = "CAPABILITY_IAM";
  const created = await motoQueryCall(motoEndpoint, "cloudformation", fields);
  if (created.status !== 200) throw new Error(`CreateStack ${stackName}: HTTP ${created.status} ${created.text.slice(0, 500)}`);

  const described = await motoQueryCall(motoEndpoint, "cloudformation", { Action: "DescribeStacks", Version: "2010-05-15", StackName: stackName });
  const status = /<StackStatus>([^<]+)<\/StackStatus>/.exec(described.text)?.[1];
  if (status !== "CREATE_COMPLETE") throw new Error(`stack ${stackName} is ${status}: ${described.text.slice(0, 500)}`);
  const outputs: Record<string, string> = {};
  const outputsXml = /<Outputs>([\s\S]*?)<\/Outputs>/.exec(described.text)?.[1] ?? "";
  for (const [, member = ""] of outputsXml.matchAll(/<member>([\s\S]*?)<\/member>/g)) {
    const key = /<OutputKey>([^<]+)<\/OutputKey>/.exec(member)?.[1];
    const value = /<OutputValue>([^<]*)<\/OutputValue>/.exec(member)?.[1];
    if (key !== undefined && value !== undefined) outputs[key] = value;
  }
  return outputs;
}
