import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderEnvExample } from '../src/cli/env-example';
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
});
