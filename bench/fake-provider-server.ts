/**
 * A Meta Cloud API stand-in for benchmarks: answers POST /{version}/{phone-number-id}/messages
 * with a wamid as fast as it can, and keeps when each message arrived (GET /arrivals,
 * POST /reset), so rates are measured where the provider's limit applies. Its own
 * process, so its CPU is not counted as ours.
 *
 * It also speaks Fonnte (POST /send) and Wablas (POST /api/send-message) with their success
 * answers, for the failover runs: POST /fonnte/hang makes Fonnte accept requests and never
 * answer (a hung gateway), POST /fonnte/ok answers again; GET /counts says how many
 * requests each gateway received.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let served = 0;
const prefix = randomBytes(6).toString('hex');
/** When each message arrived (ms since the epoch, sub-millisecond), since the last reset. */
let arrivals: number[] = [];
let fonnteHangs = false;
const counts = { fonnte: 0, wablas: 0 };
const json = (res: import('node:http').ServerResponse, body: unknown) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const server = createServer((req, res) => {
  if (req.url === '/fonnte/hang' || req.url === '/fonnte/ok' || req.url === '/counts') {
    req.resume();
    if (req.url !== '/counts') {
      fonnteHangs = req.url === '/fonnte/hang';
      counts.fonnte = 0;
      counts.wablas = 0;
    }
    return json(res, counts);
  }
  if (req.url === '/send' || req.url === '/api/send-message') {
    const fonnte = req.url === '/send';
    counts[fonnte ? 'fonnte' : 'wablas']++;
    req.resume();
    // A hung gateway: the request is read and never answered (the adapter's timeout ends it).
    if (fonnte && fonnteHangs) return;
    req.on('end', () => {
      served++;
      json(
        res,
        fonnte
          ? { detail: 'success! message in queue', id: [String(served)], process: 'pending', status: true }
          : { status: true, message: 'Message is pending', data: { messages: [{ id: `wablas-${prefix}${served}` }] } },
      );
    });
    return;
  }
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
