import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderEnvExample } from '../src/cli/env-example';
import { Kind, buildSchema, parse, validate } from 'graphql';
import { VARIABLES } from '../src/config';

describe('README', () => {
  const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

  it('documents every environment variable the service reads in its configuration table', () => {
    const undocumented = Object.keys(VARIABLES).filter((name) => !readme.includes(`| \`${name}\``));
    expect(undocumented).toEqual([]);
  });

  it('ships a .env.example listing every variable, as `npm run env:example` writes it', () => {
    const example = readFileSync(path.join(__dirname, '..', '.env.example'), 'utf8');
    expect(example).toBe(renderEnvExample());
    for (const name of Object.keys(VARIABLES)) expect(example).toContain(`# ${name}=`);
  });

  it('holds GraphQL examples that run against the schema, each operation under a name of its own', () => {
    const schema = buildSchema(readFileSync(path.join(__dirname, '..', 'schema.graphql'), 'utf8'));
    const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]);
    expect(blocks.length).toBeGreaterThan(3);
    const names: string[] = [];
    for (const block of blocks) {
      const document = parse(block);
      expect([block, validate(schema, document).map((error) => error.message)]).toEqual([block, []]);
      for (const definition of document.definitions)
        if (definition.kind === Kind.OPERATION_DEFINITION) names.push(definition.name?.value ?? '(anonymous)');
    }
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });
});
