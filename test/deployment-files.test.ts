import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { VARIABLES } from '../src/config';

const root = path.join(__dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

/**
 * The container files are not built here (no container runtime on these machines), so
 * what can be checked without one is: the compose file is valid YAML with the services a
 * deployment needs and only variables the service knows, and the Dockerfile runs what the
 * package scripts run.
 */
describe('deployment files', () => {
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

  it('docker-compose.yml runs an API, a worker, PostgreSQL, Redis and MongoDB with known variables', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string>; image?: string; build?: string }>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'mongodb', 'postgres', 'redis', 'worker']);
    for (const role of ['api', 'worker']) {
      const environment = compose.services[role].environment!;
      expect([role, environment.ROLE]).toEqual([role, role]);
      expect(environment.DATABASE_URL).toMatch(/^postgres:\/\/.+@postgres:5432\//);
      expect(environment.REDIS_URL).toBe('redis://redis:6379');
      expect(environment.MONGODB_URL).toMatch(/^mongodb:\/\/mongodb:27017\//);
      const unknown = Object.keys(environment).filter((name) => !(name in VARIABLES) && name !== 'NODE_ENV');
      expect([role, unknown]).toEqual([role, []]);
      expect(compose.services[role].build).toBe('.');
      // Bound to every interface: on loopback, the published port forwards to nothing.
      expect(environment.HOST).toBe('0.0.0.0');
    }
  });

  it('the Dockerfile builds with the build script, prunes dev dependencies, runs as node what npm start runs', () => {
    const dockerfile = read('Dockerfile');
    expect(scripts.build).toBeDefined();
    expect(dockerfile).toContain('RUN npm run build');
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toMatch(/^USER node$/m);
    const command = /^CMD \[(.+)\]$/m.exec(dockerfile)![1];
    expect(`exec ${(JSON.parse(`[${command}]`) as string[]).join(' ')}`).toBe(scripts.start);
    expect(dockerfile).toMatch(/^ENV .*\bHOST=0\.0\.0\.0\b/m);
    // The healthcheck asks through the container's address (test/healthcheck.e2e.test.ts), with the compiled CLI.
    const healthcheck = /^HEALTHCHECK [^\n]*\\\n\s+CMD \[(.+)\]$/m.exec(dockerfile)![1];
    expect(JSON.parse(`[${healthcheck}]`)).toEqual(['node', 'dist/src/cli/healthcheck.js']);
    expect(existsSync(path.join(root, 'src', 'cli', 'healthcheck.ts'))).toBe(true);
    // The image's `create-admin` runs the compiled CLI that test/create-admin.e2e.test.ts runs.
    expect(dockerfile).toContain('exec node /app/dist/src/cli/create-admin.js "$@"');
    expect(dockerfile).toMatch(
      /> \/usr\/local\/bin\/create-admin[\s\S]+chmod 755 \/usr\/local\/bin\/create-admin\n(?:.*\n)*?USER node/,
    );
  });

  it("the image's create-admin wrapper, written by the Dockerfile's own RUN line, runs the compiled CLI", () => {
    const dockerfile = read('Dockerfile');
    const line = /^RUN (printf .+create-admin \\\n\s+&& chmod .+)$/m.exec(dockerfile)![1].replace(/\\\n\s+/, '');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'image-bin-'));
    try {
      const wrapper = path.join(dir, 'create-admin');
      const script = line.replaceAll('/usr/local/bin/create-admin', wrapper).replaceAll('/app/dist', path.join(root, 'dist'));
      expect(spawnSync('sh', ['-c', script]).status).toBe(0);
      const usage = spawnSync(wrapper, [], { encoding: 'utf8' });
      expect([usage.status, usage.stderr]).toEqual([2, expect.stringContaining('in the container image: create-admin --tenant')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Every file the build stage copies exists.
    for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of sources.split(/\s+/)) expect([source, existsSync(path.join(root, source))]).toEqual([source, true]);
    }
  });
});
