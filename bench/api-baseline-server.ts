/**
 * The comparison point of bench:api: the `tickets` page (20, with requester and assignee)
 * answered by nothing but graphql-js over node:http and a hand-written pg query: no
 * framework, no ORM, no authentication, no limits. Started as a child process by
 * bench/api.ts with DATABASE_URL and TENANT_ID; prints its port.
 */
import { buildSchema, execute, parse, validate } from 'graphql';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';

const schema = buildSchema(`
  type Person { id: ID! name: String! }
  type Ticket { id: ID! reference: String! subject: String! status: String! priority: String! createdAt: String! requester: Person! assignee: Person }
  type Edge { node: Ticket! cursor: String! }
  type Connection { edges: [Edge!]! totalCount: Int! }
  type Query { tickets(first: Int = 20): Connection! }
`);

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const tenantId = process.env.TENANT_ID!;

const root = {
  async tickets({ first }: { first: number }) {
    const [{ rows }, { rows: count }] = await Promise.all([
      pool.query(
        `SELECT t.id, t.number, t.subject, t.status, t.priority, t."createdAt",
                c.id AS "requesterId", c.name AS "requesterName", u.id AS "assigneeId", u.name AS "assigneeName"
           FROM ticket t JOIN contact c ON c.id = t."requesterId" LEFT JOIN "user" u ON u.id = t."assigneeId"
          WHERE t."tenantId" = $1 ORDER BY t."createdAt" DESC, t.id LIMIT $2`,
        [tenantId, first],
      ),
      pool.query(`SELECT count(*)::int AS n FROM ticket WHERE "tenantId" = $1`, [tenantId]),
    ]);
    return {
      totalCount: count[0].n,
      edges: rows.map((row) => ({
        cursor: row.id,
        node: {
          id: row.id,
          reference: `T-${String(row.number).padStart(6, '0')}`,
          subject: row.subject,
          status: row.status,
          priority: row.priority,
          createdAt: row.createdAt.toISOString(),
          requester: { id: row.requesterId, name: row.requesterName },
          assignee: row.assigneeId ? { id: row.assigneeId, name: row.assigneeName } : null,
        },
      })),
    };
  },
};

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', async () => {
    const { query, variables } = JSON.parse(body) as { query: string; variables?: Record<string, unknown> };
    const document = parse(query);
    const errors = validate(schema, document);
    const result = errors.length ? { errors } : await execute({ schema, document, rootValue: root, variableValues: variables });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(result));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
