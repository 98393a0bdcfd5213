import { readFileSync } from 'node:fs';
import path from 'node:path';
import { VARIABLES } from '../src/config';

describe('README', () => {
  const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

  it('documents every environment variable the service reads in its configuration table', () => {
    const undocumented = Object.keys(VARIABLES).filter((name) => !readme.includes(`| \`${name}\``));
    expect(undocumented).toEqual([]);
  });
});
