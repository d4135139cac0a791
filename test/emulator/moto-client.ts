/**
 * Requests the layer itself makes to moto (the emulated buildspec's image push, fixtures'
 * IAM role). They go straight to moto, so they are never recorded as the project's calls.
 */
export interface MotoAnswer {
  status: number;
  json: any;
  text: string;
}

const TARGET_PREFIX: Record<string, string> = {
  ecr: "AmazonEC2ContainerRegistry_V20150921",
  codebuild: "CodeBuild_20161006",
  logs: "Logs_20140328",
};

/** An awsJson1_1 call (ECR, CodeBuild, CloudWatch Logs). */
export async function motoJsonCall(
  motoEndpoint: string,
  service: "ecr" | "codebuild" | "logs",
  operation: string,
  input: unknown,
): Promise<MotoAnswer> {
  return send(motoEndpoint, service, {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": `${TARGET_PREFIX[service]}.${operation}`,
  }, JSON.stringify(input));
}

/** A query-protocol call (IAM): form fields in, XML out. */
export async function motoQueryCall(
  motoEndpoint: string,
  service: string,
  fields: Record<string, string>,
): Promise<MotoAnswer> {
  return send(motoEndpoint, service, { "content-type": "application/x-www-form-urlencoded" }, new URLSearchParams(fields).toString());
}

async function send(motoEndpoint: string, service: string, headers: Record<string, string>, body: string): Promise<MotoAnswer> {
  const response = await fetch(`${motoEndpoint}/`, {
    method: "POST",
    // moto routes on the credential scope and does not check the signature.
    headers: { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=emulator/20240101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0` },
    body,
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}
