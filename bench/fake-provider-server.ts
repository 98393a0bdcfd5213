/**
 * A Meta Cloud API stand-in for benchmarks: answers POST /{version}/{phone-number-id}/messages
 * with a wamid as fast as it can. Its own process, so its CPU is not counted as ours.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let served = 0;
const prefix = randomBytes(6).toString('hex');
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    served++;
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
