import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type Pair } from "yaml";
import type { PathSegment } from "./problem.js";

/** Where a spec path lands in the YAML tree, as far as the tree goes. */
export interface Located {
  /** The deepest node reached; null for an empty document. */
  node: Node | null;
  /** The mapping entry that holds `node`, when `node` is a mapping value. */
  pair: Pair | undefined;
  /** How many path segments were found; less than the path length when a key is absent. */
  depth: number;
  /** The first alias (`*name`) passed through: its use, not the anchor, is where the path is. */
  alias: Node | undefined;
}

export function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

export function locate(doc: Document, path: readonly PathSegment[]): Located {
  let node = asNode(doc.contents);
  let pair: Pair | undefined;
  let depth = 0;
  let alias: Node | undefined;
  for (const segment of path) {
    if (isAlias(node)) alias ??= node;
    const inner = isAlias(node) ? asNode(node.resolve(doc)) : node;
    if (isMap(inner)) {
      const next = inner.items.find((item) => keyText(item.key) === String(segment));
      if (next === undefined) break;
      pair = next;
      node = asNode(next.value);
    } else if (isSeq(inner) && Number.isInteger(Number(segment))) {
      const item = inner.items[Number(segment)];
      if (item === undefined) break;
      pair = undefined;
      node = asNode(item);
    } else {
      break;
    }
    depth += 1;
  }
  return { node, pair, depth, alias };
}

/** Start offset of a value; an implicit null (`source:` with nothing after) uses its key instead. */
export function valueOffset(located: Located): number {
  const { node, pair, alias } = located;
  if (alias !== undefined) return alias.range?.[0] ?? 0;
  const implicitNull = node === null || (isScalar(node) && node.value === null && node.source === "");
  if (implicitNull && pair !== undefined) return keyOffset(pair);
  return node?.range?.[0] ?? 0;
}

/** Start offset of a mapping key; behind an alias, the alias's position. */
export function keyOffsetOf(located: Located): number {
  if (located.alias !== undefined) return located.alias.range?.[0] ?? 0;
  return located.pair ? keyOffset(located.pair) : valueOffset(located);
}

export function keyOffset(pair: Pair): number {
  const key = asNode(pair.key);
  return key?.range?.[0] ?? 0;
}

function asNode(value: unknown): Node | null {
  return value !== null && typeof value === "object" && "range" in value ? (value as Node) : null;
}
