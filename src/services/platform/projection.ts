import type { EntityMetadata } from 'typeorm';

/**
 * What a list selects of an entity, from the fields the query asks of it: the columns of
 * those fields, the ones always needed (keys, what resolvers and cursors read) and what
 * derived fields are made of. A field it does not know (a resolver or getter not listed
 * in `derived`) selects every column, so a projection can only ever be too wide, never
 * missing something. `fields` null: the entity is not asked for; the keys suffice.
 */
export function projection(
  metadata: EntityMetadata,
  fields: ReadonlySet<string> | null,
  always: readonly string[],
  derived: Readonly<Record<string, readonly string[]>> = {},
): string[] | undefined {
  const chosen = new Set(always);
  if (!fields) return [...chosen];
  const columns = new Set(metadata.columns.map((column) => column.propertyName));
  for (const field of fields) {
    if (field === '__typename') continue;
    if (derived[field]) derived[field].forEach((column) => chosen.add(column));
    else if (columns.has(field)) chosen.add(field);
    else return undefined;
  }
  return [...chosen];
}
