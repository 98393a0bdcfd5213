import { Contact } from '../src/entities/contact.entity';
import { DomainEvent } from '../src/entities/domain-event.entity';
import { Role, User } from '../src/entities/user.entity';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, errorCode, problemPath, gql, gqlOk, startTestApp } from './helpers/test-app';

const IMPORT_CONTACTS = `mutation ($rows: [ContactImportInput!]!) {
  importContacts(rows: $rows) { created updated unchanged failed rows { index id outcome matchedBy problems { field problem } } }
}`;
const IMPORT_USERS = `mutation ($rows: [UserImportInput!]!) {
  importUsers(rows: $rows) { created updated unchanged failed rows { index id outcome matchedBy problems { field problem } } }
}`;

/** Customers from a CRM and staff with their hierarchy from an HR system, in bulk. */
describe('importing people', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  async function tenant() {
    const tenant = await makeTenant(t.app.dataSource);
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const adminToken = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    // Local Indonesian numbers (0812...) are read as +62 from here on.
    await gqlOk(
      t.url,
      `mutation { updateTenantSettings(input: { defaultCountry: "id", timezone: "Asia/Jakarta", locale: "id" }) { defaultCountry } }`,
      {},
      adminToken,
    );
    return { tenant, admin, adminToken };
  }

  const contactsOf = (tenantId: string) =>
    t.app.dataSource.getRepository(Contact).find({ where: { tenantId }, order: { name: 'ASC' } });

  it('creates and updates contacts by external id, phone or e-mail, reporting bad rows and writing the rest', async () => {
    const w = await tenant();
    const known = await makeContact(t.app.dataSource, w.tenant, {
      name: 'Budi',
      phone: '+6281311112222',
      email: null,
      tags: ['old'],
    });
    const rows = [
      {
        externalId: 'CRM-1',
        name: 'Siti Rahma',
        phone: '0812-3456-7890',
        email: 'Siti@Example.test',
        birthday: '1990-04-17',
        area: 'Bandung',
        consent: [{ channel: 'WHATSAPP', granted: true }],
      },
      { phone: '081311112222', tags: ['VIP'], attributes: { plan: 'gold' }, timezone: 'Asia/Makassar' },
      { externalId: 'CRM-3', name: 'Bad phone', phone: '0812' },
      { externalId: 'CRM-4', name: 'Bad dates', birthday: '1990-02-30', timezone: 'Mars/Olympus', locale: '!!' },
      { externalId: 'CRM-1', name: 'Siti again' },
      { externalId: 'CRM-6' },
    ];
    const { importContacts: report } = await gqlOk(t.url, IMPORT_CONTACTS, { rows }, w.adminToken);
    expect(report).toMatchObject({ created: 1, updated: 1, unchanged: 0, failed: 4 });
    expect(report.rows.map((row: any) => [row.outcome, row.matchedBy, row.problems.map((p: any) => p.field)])).toEqual([
      ['CREATED', null, []],
      ['UPDATED', 'PHONE', []],
      ['FAILED', null, ['phone']],
      ['FAILED', null, ['birthday', 'timezone', 'locale']],
      ['FAILED', null, ['externalId']],
      ['FAILED', null, ['name']],
    ]);
    expect(report.rows[2].problems[0].problem).toContain('not a valid phone number');
    expect(report.rows[4].problems[0].problem).toContain('row 0');

    const contacts = await contactsOf(w.tenant.id);
    expect(contacts.map((c) => c.name)).toEqual(['Budi', 'Siti Rahma']);
    const siti = contacts[1];
    expect(siti).toMatchObject({
      externalId: 'CRM-1',
      phone: '+6281234567890',
      email: 'siti@example.test',
      birthday: '1990-04-17',
      area: 'Bandung',
      consent: { whatsapp: { granted: true, source: 'import' } },
    });
    expect(contacts[0]).toMatchObject({ id: known.id, tags: ['vip'], attributes: { plan: 'gold' }, timezone: 'Asia/Makassar' });

    // The same file again changes nothing; one contact.created event was recorded.
    const again = (await gqlOk(t.url, IMPORT_CONTACTS, { rows: rows.slice(0, 2) }, w.adminToken)).importContacts;
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    const created = await t.app.dataSource.getRepository(DomainEvent).findBy({ tenantId: w.tenant.id, type: 'contact.created' });
    expect(created.map((event) => event.subjectId)).toEqual([siti.id]);

    const { contact } = await gqlOk(
      t.url,
      `query ($id: ID!) { contact(id: $id) { phone birthday area consent { channel granted source } } }`,
      { id: siti.id },
      w.adminToken,
    );
    expect(contact).toEqual({
      phone: '+6281234567890',
      birthday: '1990-04-17',
      area: 'Bandung',
      consent: [{ channel: 'WHATSAPP', granted: true, source: 'import' }],
    });
  });

  it('imports a hierarchy of clusters, stores and staff in any order, and refuses loops and unknown managers', async () => {
    const w = await tenant();
    const hr = [
      {
        externalId: 'E-10',
        name: 'Staff One',
        email: 'staff1@corp.test',
        role: 'TECHNICIAN',
        managerExternalId: 'E-2',
        attributes: { store: 'Dago' },
      },
      {
        externalId: 'E-11',
        name: 'Staff Two',
        email: 'staff2@corp.test',
        managerEmail: 'STORE3@corp.test',
        attributes: { store: 'Riau' },
      },
      { externalId: 'E-2', name: 'Store Manager Dago', email: 'store2@corp.test', role: 'MANAGER', managerExternalId: 'E-1' },
      { externalId: 'E-3', name: 'Store Manager Riau', email: 'store3@corp.test', role: 'MANAGER', managerExternalId: 'E-1' },
      { externalId: 'E-1', name: 'Cluster Manager', email: 'cluster@corp.test', role: 'MANAGER', managerEmail: w.admin.email },
    ];
    const { importUsers } = await gqlOk(t.url, IMPORT_USERS, { rows: hr }, w.adminToken);
    expect(importUsers).toMatchObject({ created: 5, failed: 0 });
    const byExternal = async () =>
      new Map(
        (await t.app.dataSource.getRepository(User).findBy({ tenantId: w.tenant.id })).map((u) => [u.externalId ?? u.email, u]),
      );
    let people = await byExternal();
    expect(people.get('E-10')!.managerId).toBe(people.get('E-2')!.id);
    expect(people.get('E-11')!.managerId).toBe(people.get('E-3')!.id);
    expect(people.get('E-2')!.managerId).toBe(people.get('E-1')!.id);
    expect(people.get('E-1')!.managerId).toBe(w.admin.id);
    expect(people.get('E-10')).toMatchObject({ role: 'technician', attributes: { store: 'Dago' } });
    expect(people.get('E-11')!.role).toBe('agent');

    // A loop inside the batch, a loop through someone already here, an unknown manager, and a row leaning on a refused one.
    const hostile = [
      { externalId: 'E-20', name: 'Loop A', email: 'a@corp.test', managerExternalId: 'E-21' },
      { externalId: 'E-21', name: 'Loop B', email: 'b@corp.test', managerExternalId: 'E-20' },
      { externalId: 'E-1', managerExternalId: 'E-10' },
      { externalId: 'E-30', name: 'Orphan', email: 'orphan@corp.test', managerExternalId: 'E-999' },
      { externalId: 'E-31', name: 'Leaning', email: 'leaning@corp.test', managerExternalId: 'E-30' },
      { externalId: 'E-32', name: 'Fine', email: 'fine@corp.test', managerExternalId: 'E-3' },
    ];
    const second = (await gqlOk(t.url, IMPORT_USERS, { rows: hostile }, w.adminToken)).importUsers;
    expect(second.rows.map((row: any) => row.outcome)).toEqual(['FAILED', 'FAILED', 'FAILED', 'FAILED', 'FAILED', 'CREATED']);
    expect(second.rows[0].problems[0]).toEqual({ field: 'managerExternalId', problem: 'makes a reporting loop with rows 1' });
    expect(second.rows[2].problems[0].problem).toContain('reporting loop');
    expect(second.rows[3].problems[0].problem).toBe('names nobody in this batch or already here');
    expect(second.rows[4].problems[0].problem).toBe('names row 3, which was not imported');
    people = await byExternal();
    expect(people.get('E-1')!.managerId).toBe(w.admin.id);
    expect(['E-20', 'E-21', 'E-30', 'E-31'].filter((id) => people.has(id))).toEqual([]);
    expect(people.get('E-32')!.managerId).toBe(people.get('E-3')!.id);
  });

  it('lets imported staff sign in only after an admin gives them a password', async () => {
    const w = await tenant();
    await gqlOk(
      t.url,
      IMPORT_USERS,
      { rows: [{ externalId: 'E-5', name: 'New Hire', email: 'hire@corp.test', phone: '0813 2222 3333' }] },
      w.adminToken,
    );
    const hire = await t.app.dataSource.getRepository(User).findOneByOrFail({ tenantId: w.tenant.id, externalId: 'E-5' });
    expect(hire.phone).toBe('+6281322223333');
    const login = `mutation ($email: String!, $password: String!, $tenant: String) { login(email: $email, password: $password, tenant: $tenant) { token } }`;
    for (const password of ['!none', PASSWORD]) {
      expect(errorCode(await gql(t.url, login, { email: 'hire@corp.test', password, tenant: w.tenant.slug }))).toBe(
        'UNAUTHENTICATED',
      );
    }
    const { resetUserPassword } = await gqlOk(
      t.url,
      `mutation ($id: ID!) { resetUserPassword(id: $id) { oneTimePassword } }`,
      { id: hire.id },
      w.adminToken,
    );
    const { login: session } = await gqlOk(t.url, login, {
      email: 'hire@corp.test',
      password: resetUserPassword.oneTimePassword,
      tenant: w.tenant.slug,
    });
    const changed = await gql(
      t.url,
      `mutation { changeMyPassword(currentPassword: "wrong", newPassword: "a long new password") { id } }`,
      {},
      session.token,
    );
    expect(errorCode(changed)).toBe('BAD_USER_INPUT');
    await gqlOk(
      t.url,
      `mutation ($current: String!) { changeMyPassword(currentPassword: $current, newPassword: "a long new password") { id } }`,
      { current: resetUserPassword.oneTimePassword },
      session.token,
    );
    await gqlOk(t.url, login, { email: 'hire@corp.test', password: 'a long new password', tenant: w.tenant.slug });
  });

  it('keeps a second tenant’s imports to itself, whatever ids, phones and e-mails it sends', async () => {
    const victim = await tenant();
    const attacker = await tenant();
    const victimContact = await makeContact(t.app.dataSource, victim.tenant, {
      externalId: 'CRM-9',
      phone: '+6281299990000',
      email: 'victim@example.test',
    });
    const victimManager = await makeUser(t.app.dataSource, victim.tenant, { role: Role.MANAGER, externalId: 'BOSS' });
    const { importContacts } = await gqlOk(
      t.url,
      IMPORT_CONTACTS,
      { rows: [{ externalId: 'CRM-9', name: 'Hijack', phone: '081299990000', email: 'victim@example.test' }] },
      attacker.adminToken,
    );
    expect(importContacts.rows[0]).toMatchObject({ outcome: 'CREATED', matchedBy: null });
    expect(await t.app.dataSource.getRepository(Contact).findOneByOrFail({ id: victimContact.id })).toMatchObject({
      name: victimContact.name,
    });
    const { importUsers } = await gqlOk(
      t.url,
      IMPORT_USERS,
      {
        rows: [
          { externalId: 'X-1', name: 'Mole', email: 'mole@corp.test', managerExternalId: 'BOSS' },
          { externalId: 'X-2', name: 'Mole 2', email: 'mole2@corp.test', managerEmail: victimManager.email },
          { externalId: 'BOSS', name: 'Fake boss', email: victimManager.email },
        ],
      },
      attacker.adminToken,
    );
    // The attacker's own BOSS row is created in the attacker's tenant; X-1 reports to that one, not the victim's.
    expect(importUsers.rows.map((row: any) => row.outcome)).toEqual(['CREATED', 'CREATED', 'CREATED']);
    const mole = await t.app.dataSource.getRepository(User).findOneByOrFail({ tenantId: attacker.tenant.id, externalId: 'X-1' });
    const fakeBoss = await t.app.dataSource
      .getRepository(User)
      .findOneByOrFail({ tenantId: attacker.tenant.id, externalId: 'BOSS' });
    expect(mole.managerId).toBe(fakeBoss.id);
    expect(await t.app.dataSource.getRepository(User).findOneByOrFail({ id: victimManager.id })).toMatchObject({
      name: victimManager.name,
    });
  });

  it('admits keys with the right scope only, refuses agents and batches over 10,000, writing nothing', async () => {
    const w = await tenant();
    const secret = async (scopes: string) =>
      (await gqlOk(t.url, `mutation { createApiKey(name: "CRM", scopes: [${scopes}]) { secret } }`, {}, w.adminToken))
        .createApiKey.secret as string;
    const contactsKey = await secret('CONTACTS_WRITE');
    const row = { externalId: 'K-1', name: 'From the CRM', phone: '+6281200001111' };
    expect((await gqlOk(t.url, IMPORT_CONTACTS, { rows: [row] }, contactsKey)).importContacts.created).toBe(1);
    expect(errorCode(await gql(t.url, IMPORT_USERS, { rows: [{ email: 'x@corp.test', name: 'X' }] }, contactsKey))).toBe(
      'FORBIDDEN',
    );
    const usersKey = await secret('USERS_WRITE');
    expect(errorCode(await gql(t.url, IMPORT_CONTACTS, { rows: [row] }, usersKey))).toBe('FORBIDDEN');
    const agent = await makeUser(t.app.dataSource, w.tenant, { role: Role.AGENT });
    const agentToken = (await t.app.services.auth.login(agent.email, PASSWORD)).token;
    expect(errorCode(await gql(t.url, IMPORT_CONTACTS, { rows: [{ ...row, externalId: 'K-2' }] }, agentToken))).toBe('FORBIDDEN');
    const many = Array.from({ length: 10_001 }, (_, i) => ({ externalId: `M-${i}`, name: `Many ${i}` }));
    expect(errorCode(await gql(t.url, IMPORT_CONTACTS, { rows: many }, w.adminToken))).toBe('BAD_USER_INPUT');
    expect((await contactsOf(w.tenant.id)).map((c) => c.externalId)).toEqual(['K-1']);
  });

  it('reads local phone numbers in the tenant’s country everywhere, and refuses what is not a number', async () => {
    const w = await tenant();
    const create = `mutation ($input: ContactInput!) { createContact(input: $input) { id phone timezone } }`;
    const { createContact } = await gqlOk(
      t.url,
      create,
      { input: { name: 'Dewi', phone: '0812 1111 2222', timezone: 'Asia/Jakarta' } },
      w.adminToken,
    );
    expect(createContact).toMatchObject({ phone: '+6281211112222', timezone: 'Asia/Jakarta' });
    const bad = await gql(t.url, create, { input: { name: 'Nope', phone: '12' } }, w.adminToken);
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    expect(problemPath(bad)).toEqual(['input', 'phone']);
    expect(errorCode(await gql(t.url, create, { input: { name: 'Nope', timezone: 'Nowhere/City' } }, w.adminToken))).toBe(
      'BAD_USER_INPUT',
    );
    expect(
      errorCode(await gql(t.url, `mutation { updateTenantSettings(input: { defaultCountry: "XX" }) { id } }`, {}, w.adminToken)),
    ).toBe('BAD_USER_INPUT');
    // An event naming its subject by a local number finds the contact.
    const { publishEvent } = await gqlOk(
      t.url,
      `mutation { publishEvent(event: { type: "booking.created", subject: { type: CONTACT, phone: "081211112222" } }) { events { subjectFound } } }`,
      {},
      w.adminToken,
    );
    expect(publishEvent.events[0].subjectFound).toBe(true);
    expect((await contactsOf(w.tenant.id)).map((c) => c.phone)).toEqual(['+6281211112222']);
  });
});
