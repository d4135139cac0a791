import { describe, expect, it } from "vitest";
import { link, text } from "../../src/action/markdown.js";
import { quoteContinuation } from "../../src/action/log-groups.js";
import { parseOutputFile } from "./run-action.js";

describe("job summary text", () => {
  it("escapes untrusted text: no HTML, no cell break, no link, no emphasis, one line", () => {
    const escaped = text("feat|x <img src=x onerror=alert(1)> [a](https://evil) *b* `c`\nnext");
    expect(escaped).not.toMatch(/[|<>\n]|\]\(|(?<!\\)[*`[]/);
    expect(escaped).toContain("&#124;");
    expect(escaped).toContain("&lt;img");
  });

  it("shortens long text", () => {
    expect(text("a".repeat(500), 10)).toBe(`${"a".repeat(9)}…`);
  });

  it("links only http(s) targets, with nothing that ends the link early", () => {
    expect(link("x", "javascript:alert(1)")).toBe("x");
    expect(link("x", "https://a/b (c)")).toBe("[x](https://a/b%20%28c%29)");
  });
});

describe("log lines", () => {
  it("never start a line with a workflow command", () => {
    expect(quoteContinuation("reason\n::set-env name=X::y\r\n")).not.toMatch(/^::/m);
  });
});

describe("outputs file", () => {
  it("reads what core.setOutput writes, the last value winning", () => {
    expect(parseOutputFile("a<<D1\none\nD1\nb<<D2\nx\ny\nD2\na<<D3\ntwo\nD3\n")).toEqual({ a: "two", b: "x\ny" });
  });
});
