import type { JobDefinitionBody } from "./ports.js";

type Json = Record<string, unknown>;
type MapImage = (image: string | undefined) => string | undefined;

/**
 * Every place of a body where Batch takes an image, rewritten by `map`: the single container,
 * each container of an ECS task, each container and init container of an EKS pod, and the same
 * inside each node range of a multi-node job. The spec leaves the image out where the built image
 * goes; everything else (a sidecar's own image) is the user's.
 */
export function mapImages(body: JobDefinitionBody, map: MapImage): JobDefinitionBody {
  const out: JobDefinitionBody = { ...body };
  if (body.containerProperties !== undefined) out.containerProperties = withImage(body.containerProperties, map);
  if (body.ecsProperties !== undefined) out.ecsProperties = mapEcs(body.ecsProperties, map);
  if (body.eksProperties !== undefined) out.eksProperties = mapEks(body.eksProperties, map);
  if (body.nodeProperties !== undefined) {
    const ranges = listOf(body.nodeProperties["nodeRangeProperties"]).map((range) => {
      const copy: Json = { ...range };
      if (isJson(range["container"])) copy["container"] = withImage(range["container"], map);
      if (isJson(range["ecsProperties"])) copy["ecsProperties"] = mapEcs(range["ecsProperties"], map);
      if (isJson(range["eksProperties"])) copy["eksProperties"] = mapEks(range["eksProperties"], map);
      return copy;
    });
    out.nodeProperties = { ...body.nodeProperties, nodeRangeProperties: ranges };
  }
  return out;
}

/** The images of a body, in the order mapImages visits them. */
export function imagesOf(body: JobDefinitionBody): string[] {
  const images: string[] = [];
  mapImages(body, (image) => {
    if (image !== undefined) images.push(image);
    return image;
  });
  return images;
}

function mapEcs(ecs: Json, map: MapImage): Json {
  const tasks = listOf(ecs["taskProperties"]).map((task) => ({
    ...task,
    containers: listOf(task["containers"]).map((c) => withImage(c, map)),
  }));
  return { ...ecs, taskProperties: tasks };
}

function mapEks(eks: Json, map: MapImage): Json {
  const pod = isJson(eks["podProperties"]) ? eks["podProperties"] : {};
  const copy: Json = { ...pod, containers: listOf(pod["containers"]).map((c) => withImage(c, map)) };
  if (pod["initContainers"] !== undefined) copy["initContainers"] = listOf(pod["initContainers"]).map((c) => withImage(c, map));
  return { ...eks, podProperties: copy };
}

function withImage(container: Json, map: MapImage): Json {
  const image = map(typeof container["image"] === "string" ? container["image"] : undefined);
  const { image: _old, ...rest } = container;
  return image === undefined ? rest : { ...rest, image };
}

function listOf(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isJson) : [];
}

function isJson(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
