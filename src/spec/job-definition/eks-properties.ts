import { z } from "zod";
import { flag, nonEmpty, stringList, stringMap, wholeNumber } from "./fields.js";

/** eksProperties: a Kubernetes pod on an EKS cluster. See container-properties.ts for how to add a member. */

// Kubernetes names: DNS labels (RFC 1123).
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const dnsLabel = () => z.string().regex(DNS_LABEL, "must be a Kubernetes name: lowercase letters, digits and '-', at most 63");
// Batch accepts these resource names in limits and requests.
const EKS_RESOURCE = z.enum(["cpu", "memory", "nvidia.com/gpu"]);

export const EksContainerSpec = z.strictObject({
  name: dnsLabel().optional(),
  image: nonEmpty()
    .optional()
    .describe("Leave out to run the image batchship built (pinned by digest); set it for a sidecar's own image"),
  imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).optional(),
  command: stringList().optional(),
  args: stringList().optional(),
  env: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, "must be an environment variable name").refine((n) => !n.startsWith("AWS_BATCH"), {
          message: "must not start with AWS_BATCH: Batch reserves those names",
        }),
        value: z.string().optional(),
      }),
    )
    .optional(),
  resources: z
    .strictObject({
      limits: z.partialRecord(EKS_RESOURCE, nonEmpty()).optional(),
      requests: z.partialRecord(EKS_RESOURCE, nonEmpty()).optional(),
    })
    .optional(),
  volumeMounts: z
    .array(
      z.strictObject({
        name: nonEmpty().optional().describe("name of a volume of this pod"),
        mountPath: nonEmpty().optional(),
        subPath: z.string().optional(),
        readOnly: flag().optional(),
      }),
    )
    .optional(),
  securityContext: z
    .strictObject({
      runAsUser: wholeNumber(0).optional(),
      runAsGroup: wholeNumber(0).optional(),
      privileged: flag().optional(),
      allowPrivilegeEscalation: flag().optional(),
      readOnlyRootFilesystem: flag().optional(),
      runAsNonRoot: flag().optional(),
    })
    .optional(),
});

export const EksVolumeSpec = z.strictObject({
  name: dnsLabel(),
  hostPath: z.strictObject({ path: nonEmpty().optional() }).optional(),
  emptyDir: z.strictObject({ medium: z.enum(["", "Memory"]).optional(), sizeLimit: nonEmpty().optional() }).optional(),
  secret: z.strictObject({ secretName: nonEmpty(), optional: flag().optional() }).optional(),
  persistentVolumeClaim: z.strictObject({ claimName: nonEmpty(), readOnly: flag().optional() }).optional(),
});

export const EksPodPropertiesSpec = z.strictObject({
  serviceAccountName: nonEmpty().optional(),
  hostNetwork: flag().optional(),
  dnsPolicy: z.enum(["Default", "ClusterFirst", "ClusterFirstWithHostNet"]).optional(),
  imagePullSecrets: z.array(z.strictObject({ name: nonEmpty() })).optional(),
  containers: z.array(EksContainerSpec).min(1).max(10),
  initContainers: z.array(EksContainerSpec).max(10).optional(),
  volumes: z.array(EksVolumeSpec).optional(),
  metadata: z
    .strictObject({
      labels: stringMap("labels").optional(),
      annotations: stringMap("annotations").optional(),
      namespace: dnsLabel().optional(),
    })
    .optional(),
  shareProcessNamespace: flag().optional(),
});

export const EksPropertiesSpec = z
  .strictObject({ podProperties: EksPodPropertiesSpec })
  .describe("AWS Batch eksProperties: a pod on EKS; containers without image run the built image");
