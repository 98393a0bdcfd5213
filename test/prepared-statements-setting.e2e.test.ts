import { Role } from '../src/entities/user.entity';
import { PASSWORD, makeTenant, makeUser } from './helpers/factories';
import { gqlOk, startTestApp } from './helpers/test-app';

/** The setting end to end (its own file: the statement names a process gives out are counted process-wide). */
describe('DATABASE_PREPARED_STATEMENTS', () => {
  for (const setting of ['true', 'false']) {
    it(`=${setting}: the tickets list answers, with its statement prepared only when true`, async () => {
      // One connection, so the list and the look at pg_prepared_statements share it.
      const t = await startTestApp(undefined, { DATABASE_PREPARED_STATEMENTS: setting, DATABASE_POOL_SIZE: '1' });
      try {
        const tenant = await makeTenant(t.app.dataSource);
        const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
        const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
        for (let n = 0; n < 2; n++) {
          expect((await gqlOk(t.url, '{ tickets(first: 5) { totalCount } }', {}, token)).tickets.totalCount).toBe(0);
        }
        const held = (await t.app.dataSource.query(`SELECT statement FROM pg_prepared_statements`)) as Array<{
          statement: string;
        }>;
        expect(held.some((row) => row.statement.includes('FROM ticket t'))).toBe(setting === 'true');
      } finally {
        await t.stop();
      }
    });
  }
});
