import { spawn } from 'node:child_process';
import path from 'node:path';
import { reachableAddress } from '../src/cli/healthcheck';
import { type TestApp, startTestApp } from './helpers/test-app';

/**
 * The image's HEALTHCHECK (`node dist/src/cli/healthcheck.js`) asks the way a client outside
 * the container would: on the machine's network address. A server bound to loopback only,
 * which a published port cannot reach, is unhealthy.
 */
const CHECK = path.join(__dirname, '..', 'dist', 'src', 'cli', 'healthcheck.js');

/** Run asynchronously: the servers under check answer from this process's event loop. */
function check(url: string): Promise<{ status: number | null; output: string }> {
  const { HEALTHCHECK_HOST: _host, ...env } = process.env;
  const child = spawn(process.execPath, [CHECK], { env: { ...env, PORT: new URL(url).port } });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, output })));
}

describe('container healthcheck', () => {
  jest.setTimeout(60_000);
  let everyInterface: TestApp;
  let loopbackOnly: TestApp;

  beforeAll(async () => {
    everyInterface = await startTestApp(undefined, { HOST: '0.0.0.0' });
    loopbackOnly = await startTestApp();
  });
  afterAll(async () => {
    await everyInterface?.stop();
    await loopbackOnly?.stop();
  });

  it('is healthy when the server listens on every interface, as the image sets HOST', async () => {
    const result = await check(everyInterface.url);
    expect(result).toEqual({ status: 0, output: expect.stringMatching(/^healthy: http:\/\/(?!127\.)[^/]+\/healthz/) });
  });

  it('is unhealthy when the server is bound to loopback, which a published port does not reach', async () => {
    const result = await check(loopbackOnly.url);
    // Refused at once (nothing listens on that address), not a timeout.
    expect(result).toEqual({
      status: 1,
      output: expect.stringMatching(/^unhealthy: http:\/\/(?!127\.)[^/]+\/healthz: fetch failed/),
    });
  });

  it('chooses the first external IPv4 address, then a global IPv6 one, and loopback only without either', () => {
    const lo = { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: null } as const;
    const v6 = { ...lo, address: 'fd00::2', family: 'IPv6', internal: false, scopeid: 0 } as const;
    const linkLocal = { ...v6, address: 'fe80::1' } as const;
    const v4 = { ...lo, address: '10.1.2.3', internal: false } as const;
    expect(reachableAddress({ lo: [lo], eth0: [linkLocal, v6, v4] })).toBe('10.1.2.3');
    expect(reachableAddress({ lo: [lo], eth0: [linkLocal, v6] })).toBe('[fd00::2]');
    expect(reachableAddress({ lo: [lo], eth0: [linkLocal] })).toBe('127.0.0.1');
  });
});
