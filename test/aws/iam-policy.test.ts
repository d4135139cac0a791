import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AWS_IAM_ACTIONS, EXTRA_IAM_ACTIONS } from "../../src/aws/sdk-commands.js";

const root = join(import.meta.dirname, "..", "..");
const sourceDir = join(root, "src", "aws");

// The IAM service prefix of each SDK client package.
const SERVICE_PREFIX: Record<string, string> = {
  "@aws-sdk/client-batch": "batch",
  "@aws-sdk/client-ecr": "ecr",
  "@aws-sdk/client-codebuild": "codebuild",
  "@aws-sdk/client-cloudwatch-logs": "logs",
  "@aws-sdk/client-sqs": "sqs",
};

/** `new XxxCommand(` in every src/aws file, as `prefix:Xxx` from the package it is imported from. */
/** Commands IAM authorizes under another action: SQS's batch actions take the single action's permission. */
const AUTHORIZED_AS: Record<string, string> = { "sqs:DeleteMessageBatch": "sqs:DeleteMessage" };

function actionsUsedInSource(): Set<string> {
  const actions = new Set<string>();
  for (const file of readdirSync(sourceDir).filter((name) => name.endsWith(".ts"))) {
    const text = readFileSync(join(sourceDir, file), "utf8");
    const packageOf = new Map<string, string>();
    for (const [, names = "", pkg = ""] of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"(@aws-sdk\/[^"]+)"/g)) {
      for (const name of names.split(",").map((n) => n.replace(/^\s*type\s+/, "").trim())) {
        if (name) packageOf.set(name, pkg);
      }
    }
    for (const [, command = ""] of text.matchAll(/new\s+([A-Za-z0-9]+)Command\s*\(/g)) {
      const pkg = packageOf.get(`${command}Command`);
      expect(pkg, `${file}: ${command}Command is not imported from an @aws-sdk client`).toBeDefined();
      const prefix = SERVICE_PREFIX[pkg ?? ""];
      expect(prefix, `${file}: no IAM prefix known for ${pkg}`).toBeDefined();
      const action = `${prefix}:${command}`;
      actions.add(AUTHORIZED_AS[action] ?? action);
    }
  }
  return actions;
}

interface Statement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string>>;
}
interface Policy {
  Statement: Statement[];
}
type Duty = "read" | "release" | "promote" | "pass-roles" | "events" | "build";

const policies = (JSON.parse(readFileSync(join(root, "docs", "iam-policy.json"), "utf8")) as { Policies: Record<Duty, Policy> }).Policies;
/** What batchship itself runs with: every duty but the CodeBuild service role's. */
const BATCHSHIP_DUTIES: Duty[] = ["read", "release", "promote", "pass-roles", "events"];

function statements(duties: Duty[]): Statement[] {
  return duties.flatMap((duty) => policies[duty].Statement);
}

function grantedActions(duties: Duty[]): Set<string> {
  return new Set(statements(duties).filter((s) => s.Effect === "Allow").flatMap((s) => [s.Action].flat()));
}

// The values a deployed template substitutes, for evaluating the policies below.
const PARAMETERS: Record<string, string> = {
  "AWS::Partition": "aws",
  "AWS::Region": "us-east-1",
  "AWS::AccountId": "123456789012",
  RepositoryName: "etl",
  ProjectName: "etl-image",
  JobDefinitionName: "etl",
  CanaryJobQueue: "etl-canary",
  FallbackJobQueue: "etl-ondemand",
  JobRoleArn: "arn:aws:iam::123456789012:role/etl-job",
  ExecutionRoleArn: "arn:aws:iam::123456789012:role/etl-execution",
  "StateChangeQueue.Arn": "arn:aws:sqs:us-east-1:123456789012:batchship-etl-events",
};
const arn = (rest: string) => `arn:aws:${rest}`;

function substitute(text: string): string {
  return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    const value = PARAMETERS[name];
    if (value === undefined) throw new Error(`no value for \${${name}}`);
    return value;
  });
}

function globMatches(pattern: string, value: string): boolean {
  const regex = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${regex}$`).test(value);
}

/** IAM's evaluation, as far as these policies need it: an explicit Deny wins, else some Allow. */
function allowed(duties: Duty[], action: string, resource: string, context: Record<string, string> = {}): boolean {
  const matching = statements(duties).filter(
    (s) =>
      [s.Action].flat().some((a) => globMatches(a, action)) &&
      [s.Resource].flat().some((r) => globMatches(substitute(r), resource)) &&
      Object.entries(s.Condition?.["StringEquals"] ?? {}).every(([key, value]) => context[key] === value),
  );
  return !matching.some((s) => s.Effect === "Deny") && matching.some((s) => s.Effect === "Allow");
}

describe("docs/iam-policy.json", () => {
  const used = actionsUsedInSource();
  const listed = new Set<string>(AWS_IAM_ACTIONS);
  const granted = grantedActions(BATCHSHIP_DUTIES);

  it("finds the SDK commands in the source", () => {
    expect(used.size).toBeGreaterThan(10);
    expect(used).toContain("batch:SubmitJob");
  });

  it("lists every command the source sends in sdk-commands.ts", () => {
    expect([...used].filter((action) => !listed.has(action))).toEqual([]);
    expect([...listed].filter((action) => !used.has(action))).toEqual([]);
  });

  it("grants every command the source sends", () => {
    expect([...used].filter((action) => !granted.has(action))).toEqual([]);
  });

  it("grants nothing that is not used", () => {
    const needed = new Set<string>([...used, ...EXTRA_IAM_ACTIONS]);
    expect([...granted].filter((action) => !needed.has(action))).toEqual([]);
    expect([...granted].every((action) => !action.includes("*"))).toBe(true);
  });

  it("uses Resource * only for actions without resource-level permissions", () => {
    const starred = statements([...BATCHSHIP_DUTIES, "build"])
      .filter((s) => s.Effect === "Allow" && [s.Resource].flat().includes("*"))
      .flatMap((s) => [s.Action].flat());
    expect(starred.filter((action) => !/^batch:(Describe|List)|^ecr:(DescribeRegistry|GetAuthorizationToken)$/.test(action))).toEqual([]);
  });

  it("lets batchship pass the job definition's roles to Batch only, and no other role", () => {
    const passing = statements(BATCHSHIP_DUTIES).filter((s) => s.Effect === "Allow" && [s.Action].flat().includes("iam:PassRole"));
    expect(passing.length).toBeGreaterThan(0);
    for (const statement of passing) {
      expect(statement.Condition).toEqual({ StringEquals: { "iam:PassedToService": "batch.amazonaws.com" } });
      expect([statement.Resource].flat().sort()).toEqual(["${ExecutionRoleArn}", "${JobRoleArn}"]);
    }
    const toBatch = { "iam:PassedToService": "batch.amazonaws.com" };
    const release: Duty[] = ["read", "release", "pass-roles"];
    expect(allowed(release, "iam:PassRole", PARAMETERS["JobRoleArn"] ?? "", toBatch)).toBe(true);
    expect(allowed(release, "iam:PassRole", arn("iam::123456789012:role/admin"), toBatch)).toBe(false);
    // StartBuild's serviceRoleOverride passes a role to CodeBuild: never allowed, even the job role.
    expect(allowed(release, "iam:PassRole", PARAMETERS["JobRoleArn"] ?? "", { "iam:PassedToService": "codebuild.amazonaws.com" })).toBe(false);
  });

  it("starts builds of the pipeline's project only", () => {
    const release: Duty[] = ["read", "release"];
    expect(allowed(release, "codebuild:StartBuild", arn("codebuild:us-east-1:123456789012:project/etl-image"))).toBe(true);
    expect(allowed(release, "codebuild:StartBuild", arn("codebuild:us-east-1:123456789012:project/other"))).toBe(false);
  });

  it("with promotion.mode manual, only the promote role registers the production job definition", () => {
    const production = arn("batch:us-east-1:123456789012:job-definition/etl");
    const candidate = arn("batch:us-east-1:123456789012:job-definition/etl-canary");
    const manualRelease: Duty[] = ["read", "release", "pass-roles"];
    const promote: Duty[] = ["read", "promote", "pass-roles"];
    const autoRelease: Duty[] = [...manualRelease, "promote"];

    expect(allowed(manualRelease, "batch:RegisterJobDefinition", candidate)).toBe(true);
    expect(allowed(manualRelease, "batch:RegisterJobDefinition", production)).toBe(false);
    expect(allowed(manualRelease, "batch:RegisterJobDefinition", `${production}:7`)).toBe(false);
    expect(allowed(manualRelease, "batch:TagResource", `${production}:7`)).toBe(false);

    expect(allowed(promote, "batch:RegisterJobDefinition", production)).toBe(true);
    expect(allowed(promote, "batch:RegisterJobDefinition", candidate)).toBe(false);
    expect(allowed(promote, "batch:SubmitJob", arn("batch:us-east-1:123456789012:job-queue/etl-canary"))).toBe(false);

    expect(allowed(autoRelease, "batch:RegisterJobDefinition", production)).toBe(true);
    // Whoever registers to a name also writes the newest-revision hint on its revision 1.
    expect(allowed(manualRelease, "batch:TagResource", `${candidate}:1`)).toBe(true);
    expect(allowed(promote, "batch:TagResource", `${production}:1`)).toBe(true);
    expect(allowed(promote, "batch:TagResource", `${candidate}:1`)).toBe(false);
  });

  it("lets the CodeBuild service role push to the pipeline's repository only", () => {
    const repository = arn("ecr:us-east-1:123456789012:repository/etl");
    expect(allowed(["build"], "ecr:PutImage", repository)).toBe(true);
    expect(allowed(["build"], "ecr:PutImage", arn("ecr:us-east-1:123456789012:repository/other"))).toBe(false);
    expect(allowed(["build"], "ecr:DescribeImages", repository)).toBe(true);
  });
});
