import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.join(__dirname, '..');

/**
 * The README's codegen.ts, run as a frontend team would run it: over the committed schema
 * and every operation the README shows, then the generated types compiled with strict tsc
 * next to code that uses them (an enum is a union of its upper-case names, a date a string).
 */
describe('README codegen.ts', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const dir = path.join(root, 'node_modules', '.cache', `codegen-check-${process.pid}`);

  afterAll(() => process.env.KEEP_CODEGEN || rmSync(dir, { recursive: true, force: true }));

  it('generates types for every README operation, mapping every custom scalar, that compile under strict tsc', async () => {
    const config = readme.match(/```ts\n(\/\/ codegen\.ts\n[\s\S]*?)```/)?.[1];
    expect(config).toBeDefined();
    const operations = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(path.join(dir, 'src'), { recursive: true });
    writeFileSync(path.join(dir, 'codegen.ts'), config!);
    writeFileSync(path.join(dir, 'schema.graphql'), readFileSync(path.join(root, 'schema.graphql')));
    operations.forEach((operation, index) => writeFileSync(path.join(dir, 'src', `readme-${index}.graphql`), operation));
    writeFileSync(
      path.join(dir, 'src', 'use.ts'),
      `import type { ChatViewQuery, DeliveryStatus, MyQueueQuery, ViewerKind, WhoAmIQuery } from './graphql-types';

export const staff: ViewerKind = 'STAFF';
// @ts-expect-error the REST spelling is not a GraphQL enum value
export const lowerCase: ViewerKind = 'staff';
export const sent: DeliveryStatus = 'SENT';
export const isStaff = (answer: WhoAmIQuery): boolean => answer.me.kind === 'STAFF';
type Node = MyQueueQuery['tickets']['edges'][number]['node'];
export const due = (node: Node): number | null => (node.resolutionDueAt ? Date.parse(node.resolutionDueAt) : null);
type Thread = NonNullable<ChatViewQuery['ticket']>['messages'];
export const cursor = (thread: Thread): string | null => thread.pageInfo.startCursor;
`,
    );
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        include: ['codegen.ts', 'src/**/*.ts'],
      }),
    );

    await run(
      process.execPath,
      [path.join(root, 'node_modules', '@graphql-codegen', 'cli', 'cjs', 'bin.js'), '--config', 'codegen.ts'],
      {
        cwd: dir,
        env: { ...process.env, NODE_ENV: 'production' },
      },
    );
    const generated = readFileSync(path.join(dir, 'src', 'graphql-types.ts'), 'utf8');
    expect(generated).toContain('export type ViewerKind =');
    expect(generated).toContain('export type MyQueueQuery =');

    const compiled = await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir]).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(compiled).toBe('');
  }, 120_000);
});
