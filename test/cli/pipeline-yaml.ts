/** Pipeline YAML as a user writes it, for CLI tests. */
export function pipelineYaml(name: string, extra: { mode?: "auto" | "manual"; queue?: string } = {}): string {
  return `apiVersion: batchship/v1
name: ${name}
source:
  repository: acme/${name}
  branches: [main]
image:
  repository: ${name}
build:
  backend: codebuild
  project: etl-image
jobDefinition:
  name: ${name}
  containerProperties:
    command: ["run", "Ref::day"]
    vcpus: 1
    memory: 256
  parameters:
    day: today
canary:
  jobQueue: ${extra.queue ?? name}
  arraySize: 2
promotion:
  mode: ${extra.mode ?? "auto"}
`;
}
