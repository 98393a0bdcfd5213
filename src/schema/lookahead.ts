import { type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';

/**
 * The names of the fields the operation asks for directly under `path` (through
 * fragments and inline fragments), or null when it does not ask for `path` at all. A
 * resolver uses it to read in its own statement only what is asked, and what nested
 * resolvers would otherwise fetch in more. `@skip`/`@include` are not read: a skipped
 * field is read for nothing, never missed.
 */
export function subfields(info: GraphQLResolveInfo, path: readonly string[]): Set<string> | null {
  let sets = info.fieldNodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
  for (const name of path) {
    const found = sets.flatMap((set) => fieldsNamed(set, name, info));
    if (found.length === 0) return null;
    sets = found.flatMap((field) => (field.selectionSet ? [field.selectionSet] : []));
  }
  return new Set(sets.flatMap((set) => namesIn(set, info)));
}

function namesIn(set: SelectionSetNode, info: GraphQLResolveInfo, seen = new Set<string>()): string[] {
  return set.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection.name.value];
    if (selection.kind === Kind.INLINE_FRAGMENT) return namesIn(selection.selectionSet, info, seen);
    const fragment = info.fragments[selection.name.value];
    if (!fragment || seen.has(fragment.name.value)) return [];
    seen.add(fragment.name.value);
    return namesIn(fragment.selectionSet, info, seen);
  });
}

function fieldsNamed(set: SelectionSetNode, name: string, info: GraphQLResolveInfo, seen = new Set<string>()) {
  const fields: Array<{ selectionSet?: SelectionSetNode }> = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value === name) fields.push(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      fields.push(...fieldsNamed(selection.selectionSet, name, info, seen));
    } else {
      const fragment = info.fragments[selection.name.value];
      // A fragment is followed once per search, so a (refused anyway) cycle cannot loop.
      if (fragment && !seen.has(fragment.name.value)) {
        seen.add(fragment.name.value);
        fields.push(...fieldsNamed(fragment.selectionSet, name, info, seen));
      }
    }
  }
  return fields;
}
