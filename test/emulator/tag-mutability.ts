/**
 * ECR's rule for moving an existing tag to another image, as AWS documents it: IMMUTABLE refuses,
 * MUTABLE allows, and `*_WITH_EXCLUSION` flips the rule for tags matching a WILDCARD filter
 * (`*` matches any run of characters). moto gets the filters wrong (it reads them as regular
 * expressions) and names the refusal ImageAlreadyExistsException, so the layer decides itself.
 */
export function tagMayMove(repository: any, tag: string): boolean {
  const mutability = String(repository?.imageTagMutability ?? "MUTABLE");
  const filters: any[] = Array.isArray(repository?.imageTagMutabilityExclusionFilters) ? repository.imageTagMutabilityExclusionFilters : [];
  const excluded = filters.some((f) => f?.filterType === "WILDCARD" && wildcardMatches(String(f.filter), tag));
  if (mutability === "IMMUTABLE") return false;
  if (mutability === "IMMUTABLE_WITH_EXCLUSION") return excluded;
  if (mutability === "MUTABLE_WITH_EXCLUSION") return !excluded;
  return true;
}

export function wildcardMatches(filter: string, tag: string): boolean {
  const pattern = filter.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${pattern}$`).test(tag);
}
