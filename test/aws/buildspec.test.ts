import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BUILDSPEC } from "../../src/aws/buildspec.js";

const root = join(import.meta.dirname, "..", "..");

describe("the buildspec StartBuild sends", () => {
  it("is what buildspec.yml shows (npm run buildspec)", () => {
    expect(readFileSync(join(root, "buildspec.yml"), "utf8")).toBe(BUILDSPEC);
  });

  it("is a version 0.2 buildspec run by bash", () => {
    const parsed = parse(BUILDSPEC);
    expect(parsed).toMatchObject({ version: 0.2, env: { shell: "bash" } });
    expect(Object.keys(parsed.phases)).toEqual(["pre_build", "build"]);
  });

  it("pulls nothing from Docker Hub to build: dockerd's own builder, no docker-container driver", () => {
    expect(BUILDSPEC).toContain("--builder default");
    expect(BUILDSPEC).not.toMatch(/docker-container|moby\/buildkit|buildx create/);
  });

  it("checks Docker and buildx before building, saying what to change", () => {
    const preBuild: string = parse(BUILDSPEC).phases.pre_build.commands.join("\n");
    expect(preBuild).toMatch(/docker info[\s\S]*privileged mode/);
    expect(preBuild).toMatch(/docker buildx version[\s\S]*amazonlinux-x86_64-standard:5\.0/);
  });
});
