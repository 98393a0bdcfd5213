import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildAppSchema } from '../schema/build-schema';
import { createLiveEvents } from '../services/platform/live-events';

/**
 * Writes the GraphQL schema to a file (`npm run schema:print`), or with --check
 * fails when the committed file differs from what the code builds (CI).
 */
const args = process.argv.slice(2);
const check = args.includes('--check');
const file = args.find((arg) => !arg.startsWith('--')) ?? 'schema.graphql';
const printed = printSchema(lexicographicSortSchema(buildAppSchema(createLiveEvents()))) + '\n';

if (check) {
  let committed = '';
  try {
    committed = readFileSync(file, 'utf8');
  } catch {
    // a missing file is stale too
  }
  if (committed !== printed) {
    process.stderr.write(`${file} is stale: run \`npm run build && npm run schema:print\` and commit it.\n`);
    process.exit(1);
  }
  process.stdout.write(`${file} is up to date.\n`);
} else {
  writeFileSync(file, printed);
  process.stdout.write(`Wrote ${file}.\n`);
}
