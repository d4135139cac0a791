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
};

/** `new XxxCommand(` in every src/aws file, as `prefix:Xxx` from the package it is imported from. */
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
      actions.add(`${prefix}:${command}`);
    }
  }
  return actions;
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

function policyActions(): Set<string> {
  const policy = JSON.parse(readFileSync(join(root, "docs", "iam-policy.json"), "utf8")) as { Statement: Statement[] };
  const actions = new Set<string>();
  for (const statement of policy.Statement) {
    expect(statement.Effect).toBe("Allow");
    for (const action of [statement.Action].flat()) actions.add(action);
  }
  return actions;
}

describe("docs/iam-policy.json", () => {
  const used = actionsUsedInSource();
  const listed = new Set<string>(AWS_IAM_ACTIONS);
  const granted = policyActions();

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
    const policy = JSON.parse(readFileSync(join(root, "docs", "iam-policy.json"), "utf8")) as { Statement: Statement[] };
    const starred = policy.Statement.filter((s) => [s.Resource].flat().includes("*")).flatMap((s) => [s.Action].flat());
    expect(starred.every((action) => /^batch:(Describe|List)/.test(action))).toBe(true);
  });
});
