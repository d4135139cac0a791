/**
 * Markdown for the job summary. Everything that did not come from batchship itself — branch
 * names, commit messages, Batch reasons, ARNs — goes through `text()`, so it can neither close
 * a table cell, open a link or an image, nor inject HTML.
 */

const HTML: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "|": "&#124;" };

/** Untrusted text as plain text in a table cell or a paragraph, on one line, at most `max` characters. */
export function text(value: string, max = 300): string {
  const oneLine = value.replace(/[\x00-\x1f\x7f]+/g, " ").trim();
  const short = oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
  // Markdown first: the entities the HTML step writes contain `#`, which must stay unescaped.
  return short
    .replace(/[\\`*_{}[\]()#+\-.!~:@]/g, (c) => `\\${c}`)
    .replace(/[&<>"'|]/g, (c) => HTML[c] ?? c);
}

/** A link whose target batchship built; anything but http(s) is shown as text only. */
export function link(label: string, url: string | undefined): string {
  if (url === undefined || !/^https?:\/\//.test(url)) return label;
  const safe = url.replace(/[\s()<>"'|\\`]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  return `[${label}](${safe})`;
}

/** Untrusted text shown as code; `<code>` rather than backticks, which cannot be escaped inside. */
export function code(value: string, max = 300): string {
  return `<code>${text(value, max)}</code>`;
}

export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}
