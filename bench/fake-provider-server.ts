/**
 * A Meta Cloud API stand-in for benchmarks: answers POST /{version}/{phone-number-id}/messages
 * with a wamid as fast as it can, and keeps when each message arrived (GET /arrivals,
 * POST /reset), so rates are measured where the provider's limit applies. Its own
 * process, so its CPU is not counted as ours.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let served = 0;
const prefix = randomBytes(6).toString('hex');
/** When each message arrived (ms since the epoch, sub-millisecond), since the last reset. */
let arrivals: number[] = [];
const server = createServer((req, res) => {
  // The bench reads what the provider saw: GET /arrivals, and POST /reset before a run.
  if (req.url === '/arrivals' || req.url === '/reset') {
    req.resume();
    if (req.url === '/reset') arrivals = [];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url === '/arrivals' ? JSON.stringify(arrivals) : '{}');
    return;
  }
  req.resume();
  req.on('end', () => {
    served++;
    arrivals.push(performance.timeOrigin + performance.now());
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        messaging_product: 'whatsapp',
        contacts: [{ input: 'x', wa_id: 'x' }],
        messages: [{ id: `wamid.${prefix}${served}` }],
      }),
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
