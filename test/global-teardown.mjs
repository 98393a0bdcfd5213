import pg from 'pg';

export default async function globalTeardown() {
  const { adminUrl, name } = globalThis.__TEST_DATABASE__ ?? {};
  if (adminUrl && process.env.DATABASE_URL) {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.end();
  }
  await globalThis.__EMBEDDED_PG__?.stop();
  await globalThis.__CONGO__?.stop();
}
