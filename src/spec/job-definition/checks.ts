import type { z } from "zod";
import { closestKey } from "../suggest.js";
import type { PathSegment } from "../problem.js";
import type { ContainerPropertiesSpec, MountPointSpec, ResourceRequirementSpec, VolumeSpec } from "./container-properties.js";
import type { EcsPropertiesSpec } from "./ecs-properties.js";
import type { EksPropertiesSpec } from "./eks-properties.js";
import { REF_PATTERN } from "./fields.js";
import { nodeRange, type NodeContainerPropertiesSpec, type NodePropertiesSpec } from "./node-properties.js";
import { checkFargateContainer, checkResourceValues, type Platform } from "./platform-checks.js";

export type ContainerOrNodeContainer = z.output<typeof ContainerPropertiesSpec> | z.output<typeof NodeContainerPropertiesSpec>;
type EcsProperties = z.output<typeof EcsPropertiesSpec>;
type EksProperties = z.output<typeof EksPropertiesSpec>;
type NodeProperties = z.output<typeof NodePropertiesSpec>;
type Volume = z.output<typeof VolumeSpec>;
type MountPoint = z.output<typeof MountPointSpec>;
export type ResourceRequirement = z.output<typeof ResourceRequirementSpec>;

/** The job definition's fields the cross-field checks read. */
export interface JobDefinitionFields {
  platformCapabilities?: Platform[] | undefined;
  containerProperties?: ContainerOrNodeContainer | undefined;
  ecsProperties?: EcsProperties | undefined;
  eksProperties?: EksProperties | undefined;
  nodeProperties?: NodeProperties | undefined;
  parameters: Record<string, string>;
  platform: "batch" | "local";
}

/** The kinds of job definition Batch has; a job definition gives exactly one. */
export const KIND_KEYS = ["containerProperties", "ecsProperties", "eksProperties", "nodeProperties"] as const;

type Report = (path: readonly PathSegment[], message: string) => void;

/** Checks that span fields: what Batch refuses although each field alone is well-formed. */
export function checkJobDefinition(def: JobDefinitionFields, ctx: z.core.$RefinementCtx): void {
  const report: Report = (path, message) => ctx.addIssue({ code: "custom", message, path: [...path] });
  const kinds = KIND_KEYS.filter((key) => def[key] !== undefined);
  for (const extra of kinds.slice(1)) {
    report([extra], `must not be set together with ${kinds[0]}: a job definition has exactly one of ${KIND_KEYS.join(", ")}`);
  }
  if (kinds.length > 1) return;
  const platform: Platform = def.platformCapabilities?.[0] ?? "EC2";

  if (def.platform === "local" && kinds[0] !== undefined && kinds[0] !== "containerProperties") {
    report([kinds[0]], "is not supported by jobDefinition.platform local, which runs containerProperties jobs only");
  }
  if (def.eksProperties !== undefined && def.platformCapabilities !== undefined) {
    report(["platformCapabilities"], "must not be set with eksProperties: jobs on EKS take no platform capabilities");
  }
  if (def.nodeProperties !== undefined && platform === "FARGATE") {
    report(["platformCapabilities"], "must be EC2 with nodeProperties: multi-node parallel jobs do not run on Fargate");
  }

  const networkModes = [
    ...(def.ecsProperties?.taskProperties ?? []).map((task, t) => ({ task, path: ["ecsProperties", "taskProperties", t] })),
    ...(def.nodeProperties?.nodeRangeProperties ?? []).flatMap((range, r) =>
      (range.ecsProperties?.taskProperties ?? []).map((task, t) => ({ task, path: ["nodeProperties", "nodeRangeProperties", r, "ecsProperties", "taskProperties", t] })),
    ),
  ];
  for (const { task, path } of networkModes) {
    if (task.networkMode !== undefined && platform !== "MANAGED_INSTANCES") {
      report([...path, "networkMode"], "is only for platformCapabilities [MANAGED_INSTANCES]: remove it");
    }
  }
  checkParameterRefs(def, report);
  if (def.containerProperties !== undefined) checkContainer(def.containerProperties, ["containerProperties"], platform, report);
  if (def.ecsProperties !== undefined) checkEcs(def.ecsProperties, ["ecsProperties"], platform, report, true);
  if (def.eksProperties !== undefined) checkEks(def.eksProperties, ["eksProperties"], report, true);
  if (def.nodeProperties !== undefined) checkNodes(def.nodeProperties, report);
}

function checkContainer(container: ContainerOrNodeContainer, path: PathSegment[], platform: Platform, report: Report): void {
  const requirements = container.resourceRequirements ?? [];
  checkResourceValues(requirements, [...path, "resourceRequirements"], platform, report);
  // On Fargate the deprecated fields are refused outright (checkFargateContainer says so).
  if (platform !== "FARGATE" && container.vcpus !== undefined && requirements.some((r) => r.type === "VCPU")) {
    report([...path, "vcpus"], "must not be set together with a VCPU resource requirement: keep resourceRequirements only");
  }
  if (platform !== "FARGATE" && container.memory !== undefined && requirements.some((r) => r.type === "MEMORY")) {
    report([...path, "memory"], "must not be set together with a MEMORY resource requirement: keep resourceRequirements only");
  }
  if (platform === "FARGATE") checkFargateContainer(container, path, report);
  else {
    for (const key of ["fargatePlatformConfiguration", "networkConfiguration", "ephemeralStorage", "runtimePlatform"] as const) {
      if (container[key] !== undefined) report([...path, key], "is only for Fargate: set platformCapabilities: [FARGATE], or remove it");
    }
  }
  checkVolumes(container.volumes ?? [], [...path, "volumes"], [{ mountPoints: container.mountPoints ?? [], path }], report);
}

function checkEcs(ecs: EcsProperties, path: PathSegment[], platform: Platform, report: Report, mustRunBuiltImage: boolean): void {
  ecs.taskProperties.forEach((task, t) => {
    const taskPath = [...path, "taskProperties", t];
    const names = task.containers.map((c) => c.name);
    task.containers.forEach((container, i) => {
      const containerPath = [...taskPath, "containers", i];
      if (container.name === undefined && task.containers.length > 1) {
        report(containerPath, 'missing required key "name": a task of several containers names each one');
      } else if (container.name !== undefined && names.indexOf(container.name) !== i) {
        report([...containerPath, "name"], `duplicate container name "${container.name}"`);
      }
      checkResourceValues(container.resourceRequirements ?? [], [...containerPath, "resourceRequirements"], platform, report);
      (container.dependsOn ?? []).forEach((dependency, d) => {
        const name = dependency.containerName;
        if (name !== undefined && (!names.includes(name) || name === container.name)) {
          report([...containerPath, "dependsOn", d, "containerName"], unknownName("container", name, names.filter((n) => n !== container.name)));
        }
      });
    });
    checkVolumes(
      task.volumes ?? [],
      [...taskPath, "volumes"],
      task.containers.map((c, i) => ({ mountPoints: c.mountPoints ?? [], path: [...taskPath, "containers", i] })),
      report,
    );
    if (mustRunBuiltImage && task.containers.every((c) => c.image !== undefined)) {
      report([...taskPath, "containers"], "one container must leave out image: it runs the image batchship built");
    }
  });
}

function checkEks(eks: EksProperties, path: PathSegment[], report: Report, mustRunBuiltImage: boolean): void {
  const pod = eks.podProperties;
  const podPath = [...path, "podProperties"];
  const volumes = pod.volumes ?? [];
  const volumeNames = volumes.map((v) => v.name);
  volumes.forEach((volume, v) => {
    const sources = (["hostPath", "emptyDir", "secret", "persistentVolumeClaim"] as const).filter((k) => volume[k] !== undefined);
    if (sources.length !== 1) {
      report([...podPath, "volumes", v], `must have exactly one of hostPath, emptyDir, secret, persistentVolumeClaim${sources.length > 1 ? `, got ${sources.join(", ")}` : ""}`);
    }
    if (volumeNames.indexOf(volume.name) !== v) report([...podPath, "volumes", v, "name"], `duplicate volume name "${volume.name}"`);
  });
  const all = [...pod.containers.map((c, i) => ({ c, path: [...podPath, "containers", i] })), ...(pod.initContainers ?? []).map((c, i) => ({ c, path: [...podPath, "initContainers", i] }))];
  const names = all.map(({ c }) => c.name);
  all.forEach(({ c, path: containerPath }, i) => {
    if (c.name === undefined && all.length > 1) report(containerPath, 'missing required key "name": a pod of several containers names each one');
    else if (c.name !== undefined && names.indexOf(c.name) !== i) report([...containerPath, "name"], `duplicate container name "${c.name}"`);
    (c.volumeMounts ?? []).forEach((mount, m) => {
      if (mount.name !== undefined && !volumeNames.includes(mount.name)) {
        report([...containerPath, "volumeMounts", m, "name"], unknownName("volume", mount.name, volumeNames));
      }
    });
  });
  if (mustRunBuiltImage && all.every(({ c }) => c.image !== undefined)) {
    report([...podPath, "containers"], "one container must leave out image: it runs the image batchship built");
  }
}

function checkNodes(nodes: NodeProperties, report: Report): void {
  const path = ["nodeProperties"];
  if (nodes.mainNode >= nodes.numNodes) {
    report([...path, "mainNode"], `must be a node index below numNodes (${nodes.numNodes}), got ${nodes.mainNode}`);
  }
  const ranges: [number, number][] = [];
  nodes.nodeRangeProperties.forEach((range, r) => {
    const rangePath = [...path, "nodeRangeProperties", r];
    const kinds = (["container", "ecsProperties", "eksProperties"] as const).filter((k) => range[k] !== undefined);
    if (kinds.length !== 1) {
      report(rangePath, `must have exactly one of container, ecsProperties, eksProperties${kinds.length > 1 ? `, got ${kinds.join(", ")}` : ""}`);
    }
    if (range.container !== undefined) checkContainer(range.container, [...rangePath, "container"], "EC2", report);
    if (range.ecsProperties !== undefined) checkEcs(range.ecsProperties, [...rangePath, "ecsProperties"], "EC2", report, false);
    if (range.eksProperties !== undefined) checkEks(range.eksProperties, [...rangePath, "eksProperties"], report, false);
    const bounds = nodeRange(range.targetNodes, nodes.numNodes);
    if (bounds === undefined) return;
    const [start, end] = bounds;
    if (start > end || end >= nodes.numNodes) {
      report([...rangePath, "targetNodes"], `must be within nodes 0 to ${nodes.numNodes - 1} (numNodes ${nodes.numNodes}), got "${range.targetNodes}"`);
      return;
    }
    ranges.push([start, end]);
  });
  const instanceTypes = nodes.nodeRangeProperties.map((range) => range.container?.instanceType ?? range.instanceTypes?.[0]);
  const firstType = instanceTypes.find((type) => type !== undefined);
  instanceTypes.forEach((type, r) => {
    if (type !== undefined && type !== firstType) {
      const range = nodes.nodeRangeProperties[r];
      const key = range?.container?.instanceType !== undefined ? ["container", "instanceType"] : ["instanceTypes", 0];
      report([...path, "nodeRangeProperties", r, ...key], `must be ${firstType} like the other node ranges: Batch runs every node group of a job on one instance type`);
    }
  });
  const missing = firstUncovered(ranges, nodes.numNodes);
  if (missing !== undefined) {
    report([...path, "nodeRangeProperties"], `must cover every node from 0 to ${nodes.numNodes - 1}: node ${missing} is in no range`);
  }
  if (nodes.nodeRangeProperties.every((range) => !runsBuiltImage(range))) {
    report([...path, "nodeRangeProperties"], "one node range must leave out an image: it runs the image batchship built");
  }
}

/**
 * The first node no range covers. Ranges may nest (0:10 and 4:5, the inner one overriding), so
 * only coverage matters; computed over the ranges, never over every node of a huge numNodes.
 */
function firstUncovered(ranges: [number, number][], numNodes: number): number | undefined {
  let next = 0;
  for (const [start, end] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (start > next) return next;
    next = Math.max(next, end + 1);
  }
  return next < numNodes ? next : undefined;
}

function runsBuiltImage(range: NodeProperties["nodeRangeProperties"][number]): boolean {
  if (range.container !== undefined) return range.container.image === undefined;
  if (range.ecsProperties !== undefined) return range.ecsProperties.taskProperties.some((t) => t.containers.some((c) => c.image === undefined));
  if (range.eksProperties !== undefined) return range.eksProperties.podProperties.containers.some((c) => c.image === undefined);
  return false;
}

/** Every mount point names a volume of the same task, and volume names are unique. */
function checkVolumes(volumes: Volume[], path: PathSegment[], users: { mountPoints: MountPoint[]; path: PathSegment[] }[], report: Report): void {
  const names = volumes.map((v) => v.name);
  volumes.forEach((volume, v) => {
    if (volume.name === undefined) report([...path, v], 'missing required key "name": mount points refer to a volume by name');
    else if (names.indexOf(volume.name) !== v) report([...path, v, "name"], `duplicate volume name "${volume.name}"`);
    if (volume.host !== undefined && volume.efsVolumeConfiguration !== undefined) {
      report([...path, v], "must have one of host, efsVolumeConfiguration, not both");
    }
  });
  for (const user of users) {
    user.mountPoints.forEach((mount, m) => {
      if (mount.sourceVolume !== undefined && !names.includes(mount.sourceVolume)) {
        report([...user.path, "mountPoints", m, "sourceVolume"], unknownName("volume", mount.sourceVolume, names.filter((n): n is string => n !== undefined)));
      }
    });
  }
}

/** Batch replaces Ref::name in a command with the parameter; an undefined one stays literal. */
function checkParameterRefs(def: JobDefinitionFields, report: Report): void {
  const defined = Object.keys(def.parameters);
  for (const { list, path } of commandLists(def)) {
    list.forEach((argument, i) => {
      for (const match of argument.matchAll(REF_PATTERN)) {
        const name = match[1] ?? "";
        if (defined.includes(name)) continue;
        const suggestion = closestKey(name, defined);
        const hint = suggestion ? ` (did you mean "Ref::${suggestion}"?)` : "; define it under jobDefinition.parameters";
        report([...path, i], `Ref::${name} refers to a parameter that jobDefinition.parameters does not define${hint}`);
      }
    });
  }
}

function commandLists(def: JobDefinitionFields): { list: string[]; path: PathSegment[] }[] {
  const found: { list: string[]; path: PathSegment[] }[] = [];
  const add = (list: string[] | undefined, path: PathSegment[]) => {
    if (list !== undefined) found.push({ list, path });
  };
  const ecs = (e: EcsProperties | undefined, path: PathSegment[]) =>
    e?.taskProperties.forEach((t, ti) => t.containers.forEach((c, ci) => add(c.command, [...path, "taskProperties", ti, "containers", ci, "command"])));
  const eks = (e: EksProperties | undefined, path: PathSegment[]) => {
    for (const key of ["containers", "initContainers"] as const) {
      e?.podProperties[key]?.forEach((c, ci) => {
        add(c.command, [...path, "podProperties", key, ci, "command"]);
        add(c.args, [...path, "podProperties", key, ci, "args"]);
      });
    }
  };
  add(def.containerProperties?.command, ["containerProperties", "command"]);
  ecs(def.ecsProperties, ["ecsProperties"]);
  eks(def.eksProperties, ["eksProperties"]);
  def.nodeProperties?.nodeRangeProperties.forEach((range, r) => {
    const path = ["nodeProperties", "nodeRangeProperties", r];
    add(range.container?.command, [...path, "container", "command"]);
    ecs(range.ecsProperties, [...path, "ecsProperties"]);
    eks(range.eksProperties, [...path, "eksProperties"]);
  });
  return found;
}

function unknownName(what: string, name: string, known: readonly (string | undefined)[]): string {
  const names = known.filter((n): n is string => n !== undefined);
  const suggestion = closestKey(name, names);
  const hint = suggestion ? ` (did you mean "${suggestion}"?)` : names.length > 0 ? `; known: ${names.join(", ")}` : "";
  return `no ${what} is named "${name}"${hint}`;
}
