/**
 * The comparison point of bench:subscriptions: the same fan-out with nothing but
 * graphql-js and graphql-ws over node:http — no framework, no database, no auth.
 * Started as a child process by bench/subscriptions.ts; prints its port.
 */
import { createPubSub } from '@graphql-yoga/subscription';
import { buildSchema, execute, parse, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

const schema = buildSchema(`
  type Message { id: ID! ticketId: ID! body: String! internal: Boolean! authorName: String! createdAt: String! }
  type Query { ok: Boolean! }
  type Mutation { addTicketMessage(ticketId: ID!, body: String!): Message! }
  type Subscription { ticketMessageAdded(ticketId: ID!): Message! }
`);

interface Message {
  id: string;
  ticketId: string;
  body: string;
  internal: boolean;
  authorName: string;
  createdAt: string;
}

const pubSub = createPubSub<{ message: [ticketId: string, message: Message] }>();
let sequence = 0;

const rootValue = {
  ok: () => true,
  addTicketMessage: ({ ticketId, body }: { ticketId: string; body: string }) => {
    const message = {
      id: String(++sequence),
      ticketId,
      body,
      internal: false,
      authorName: 'Baseline',
      createdAt: new Date().toISOString(),
    };
    pubSub.publish('message', ticketId, message);
    return message;
  },
  ticketMessageAdded: ({ ticketId }: { ticketId: string }) => ({
    [Symbol.asyncIterator]: async function* () {
      for await (const message of pubSub.subscribe('message', ticketId)) yield { ticketMessageAdded: message };
    },
  }),
};

const server = createServer((req, res) => {
  let raw = '';
  req.on('data', (chunk) => (raw += chunk));
  req.on('end', async () => {
    const { query, variables } = JSON.parse(raw) as { query: string; variables?: Record<string, unknown> };
    const document = parse(query);
    const errors = validate(schema, document);
    const result = errors.length ? { errors } : await execute({ schema, document, rootValue, variableValues: variables });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(result));
  });
});
const wsServer = new WebSocketServer({ server, path: '/graphql' });
useServer({ schema, roots: { subscription: { ticketMessageAdded: rootValue.ticketMessageAdded } } as never }, wsServer);

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
