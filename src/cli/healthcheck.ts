import os from 'node:os';

/**
 * The container's health as a client outside it would see it: `GET /healthz` on the
 * container's own network address, not on loopback. A server bound to 127.0.0.1 answers on
 * loopback while the published port forwards to nothing; through this address it fails the
 * check. Exit 0 when healthy, 1 otherwise (what Docker's HEALTHCHECK reads).
 * `HEALTHCHECK_HOST` overrides the address (a host with several interfaces).
 */
export function reachableAddress(interfaces = os.networkInterfaces()): string {
  const addresses = Object.values(interfaces).flatMap((list) => list ?? []);
  const external = addresses.filter((address) => !address.internal);
  const ipv4 = external.find((address) => address.family === 'IPv4');
  if (ipv4) return ipv4.address;
  const ipv6 = external.find((address) => address.family === 'IPv6' && !address.address.startsWith('fe80:'));
  return ipv6 ? `[${ipv6.address}]` : '127.0.0.1';
}

async function main(): Promise<void> {
  const host = process.env.HEALTHCHECK_HOST || reachableAddress();
  const url = `http://${host}:${process.env.PORT || 4000}/healthz`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_500) });
    if (!response.ok) throw new Error(`answered ${response.status}`);
    process.stdout.write(`healthy: ${url}\n`);
    process.exit(0);
  } catch (error) {
    process.stderr.write(`unhealthy: ${url}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

if (require.main === module) void main();
