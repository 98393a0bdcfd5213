/**
 * A worker process for bench:events: the real EventRelay with one consumer that writes
 * how long each event took from publication to it (its effect, committed with the done mark).
 */
import 'reflect-metadata';
import { servicesFor } from '../src/app';
import { loadConfig } from '../src/config';
import { openDataSource } from '../src/database';
import { EventRelay } from '../src/jobs/event-relay';
import { silentLogger } from '../src/logger';
import { runBench } from './support';

async function main(): Promise<void> {
  const config = loadConfig();
  const dataSource = await openDataSource(config.databaseUrl!, 8, silentLogger);
  const services = await servicesFor(config, dataSource);
  services.eventConsumers.register({
    name: 'bench',
    description: 'Records publication-to-consumer latency',
    types: ['*'],
    handle: async (event, uow) => {
      const sentAt = Number(event.payload.sentAt);
      await uow.manager.query(`INSERT INTO bench_latency (event_id, ms) VALUES ($1, $2)`, [event.id, Date.now() - sentAt]);
    },
  });
  const relay = new EventRelay(services.events, config.databaseUrl!, config.events.sweepMs, silentLogger);
  await relay.start();
  process.stdout.write('relay worker ready\n');
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await relay.stop();
  await dataSource.destroy();
}

runBench(main);
