import { isPair, isSeq, visit, type Document, type LineCounter } from "yaml";
import { keyOffset, keyText } from "./yaml-locate.js";
import type { PathSegment } from "./problem.js";

export interface DuplicateKey {
  path: PathSegment[];
  offset: number;
  message: string;
}

/**
 * Every repeated key, at its second (and later) occurrence. YAML says the document is invalid;
 * most parsers silently keep the last value, which is how a setting gets lost.
 */
export function findDuplicateKeys(doc: Document, lineCounter: LineCounter): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  visit(doc, {
    Map(_, map, ancestry) {
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        const key = keyText(pair.key);
        const first = seen.get(key);
        if (first === undefined) {
          seen.set(key, keyOffset(pair));
          continue;
        }
        found.push({
          path: [...pathOf([...ancestry, map]), key],
          offset: keyOffset(pair),
          message: `duplicate key "${key}": already set on line ${lineCounter.linePos(first).line}`,
        });
      }
    },
  });
  return found;
}

function pathOf(ancestry: readonly unknown[]): PathSegment[] {
  const path: PathSegment[] = [];
  for (let i = 0; i < ancestry.length; i++) {
    const item = ancestry[i];
    const next = ancestry[i + 1];
    if (isPair(item)) path.push(keyText(item.key));
    else if (isSeq(item) && next !== undefined) {
      const index = item.items.indexOf(next);
      if (index >= 0) path.push(index);
    }
  }
  return path;
}
