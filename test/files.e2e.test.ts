import { Role } from '../src/entities/user.entity';
import { S3Fake } from './fakes/s3-fake';
import { PASSWORD, makeContact, makeTenant, makeUser, makeServiceJob } from './helpers/factories';
import { type TestApp, errorCode, gql, gqlOk, problemPath, startTestApp } from './helpers/test-app';

const CREATE_UPLOAD = `mutation ($input: CreateUploadInput!) { createUpload(input: $input) { fileId uploadUrl method headers expiresAt } }`;
const ADD = `mutation ($input: AddTicketMessageInput!) { addTicketMessage(input: $input) { id attachments { fileId url filename contentType size } } }`;
const THREAD = `query ($id: ID!) { ticket(id: $id) { messages { edges { node { body internal attachments { fileId url filename } } } } } }`;

/** A small but real PNG and PDF: their first bytes are what the type check reads. */
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR fake image body')]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(30, 0x90)]);

/** The API's links name PUBLIC_URL; the test server listens elsewhere, so the path and query are what it gets. */
function localLink(t: TestApp, link: string): string {
  const url = new URL(link);
  return `${t.url}${url.pathname}${url.search}`;
}

/** Issue 23.5: files are really stored, behind signed links, with limits; an attacker tenant gets nothing. */
describe('stored files', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(undefined, { MAX_UPLOAD_BYTES: '4096', FILE_LINK_TTL_SECONDS: '300' });
  });
  afterAll(() => t.stop());

  const local = (link: string) => localLink(t, link);

  async function world() {
    const ds = t.app.dataSource;
    const tenant = await makeTenant(ds);
    const agent = await makeUser(ds, tenant, { role: Role.AGENT });
    const admin = await makeUser(ds, tenant, { role: Role.ADMIN });
    const sari = await makeContact(ds, tenant, { name: 'Sari', phone: '+6281298769001' });
    const budi = await makeContact(ds, tenant, { name: 'Budi', phone: '+6281298769002' });
    const staff = { kind: 'staff' as const, tenantId: tenant.id, userId: admin.id, role: Role.ADMIN as const, name: 'Admin' };
    const customer = async (contactId: string) => (await t.app.services.auth.issueCustomerToken(staff, contactId)).token;
    const agentToken = (await t.app.services.auth.login(agent.email, PASSWORD)).token;
    const ticket = async (requesterId: string) =>
      (
        await gqlOk(
          t.url,
          `mutation ($input: CreateTicketInput!) { createTicket(input: $input) { id } }`,
          { input: { subject: 'Broken AC', requesterId } },
          agentToken,
        )
      ).createTicket.id as string;
    return { tenant, agent, sari, budi, customer, agentToken, ticket };
  }

  /** Announces a file and PUTs its bytes as a client would; the upload and the PUT's answer. */
  async function upload(token: string, fileName: string, contentType: string, bytes: Buffer, declared = bytes.length) {
    const { createUpload } = await gqlOk(t.url, CREATE_UPLOAD, { input: { fileName, contentType, size: declared } }, token);
    const put = await fetch(local(createUpload.uploadUrl), {
      method: 'PUT',
      headers: { 'content-type': contentType },
      body: bytes,
    });
    return { upload: createUpload, status: put.status, answer: (await put.json()) as any };
  }

  it('takes a file through a signed upload URL, attaches it to a message, and serves it to its readers through short-lived links', async () => {
    const w = await world();
    const ticketId = await w.ticket(w.sari.id);
    const sariToken = await w.customer(w.sari.id);
    // A browser app on another origin may PUT the bytes (CORS preflight answered).
    const preflight = await fetch(`${t.url}/files/upload/x`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.test',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type',
      },
    });
    expect([preflight.status, preflight.headers.get('access-control-allow-methods')]).toEqual([
      204,
      expect.stringContaining('PUT'),
    ]);
    const photo = await upload(sariToken, '../../etc/AC unit.png', 'image/png', PNG);
    expect(photo.status).toBe(201);
    expect(photo.upload).toMatchObject({
      method: 'PUT',
      headers: { 'Content-Type': 'image/png', 'Content-Length': String(PNG.length) },
    });
    expect(photo.answer).toMatchObject({ fileId: photo.upload.fileId, size: PNG.length, contentType: 'image/png' });

    const { addTicketMessage } = await gqlOk(
      t.url,
      ADD,
      { input: { ticketId, body: 'Here is the unit', fileIds: [photo.upload.fileId] } },
      sariToken,
    );
    expect(addTicketMessage.attachments).toEqual([
      {
        fileId: photo.upload.fileId,
        url: expect.stringContaining(`/files/${photo.upload.fileId}?`),
        filename: 'AC unit.png',
        contentType: 'image/png',
        size: PNG.length,
      },
    ]);
    // The same file is not attached twice.
    const again = await gql(t.url, ADD, { input: { ticketId, body: 'Again', fileIds: [photo.upload.fileId] } }, sariToken);
    expect([errorCode(again), problemPath(again)]).toEqual(['BAD_USER_INPUT', ['input', 'fileIds', 0]]);

    // The agent reads the thread and downloads the photo through a link signed for them.
    const { ticket } = await gqlOk(t.url, THREAD, { id: ticketId }, w.agentToken);
    const link = ticket.messages.edges.find((edge: any) => edge.node.body === 'Here is the unit').node.attachments[0].url;
    const download = await fetch(local(link));
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(download.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''AC%20unit.png");
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');

    // A staff-only note's file: the agent can open it, the customer never gets a link and a forwarded one fails.
    const note = await upload(w.agentToken, 'internal.pdf', 'application/pdf', PDF);
    const { addTicketMessage: internal } = await gqlOk(
      t.url,
      ADD,
      { input: { ticketId, body: 'Warranty papers', internal: true, fileIds: [note.upload.fileId] } },
      w.agentToken,
    );
    expect((await fetch(local(internal.attachments[0].url))).status).toBe(200);
    const seen = await gqlOk(t.url, THREAD, { id: ticketId }, sariToken);
    expect(JSON.stringify(seen)).not.toContain(note.upload.fileId);
    const forged = new URL(internal.attachments[0].url);
    const sariLink = new URL(addTicketMessage.attachments[0].url);
    forged.searchParams.set('w', sariLink.searchParams.get('w')!);
    expect((await fetch(local(forged.toString()))).status).toBe(404);

    // Links expire (by the API's clock).
    t.clock.advance(301_000);
    expect((await fetch(local(link))).status).toBe(404);
  });

  it('refuses files over the size limit, of types not accepted, larger or smaller than announced, or not what they claim to be', async () => {
    const w = await world();
    const big = await gql(
      t.url,
      CREATE_UPLOAD,
      { input: { fileName: 'big.pdf', contentType: 'application/pdf', size: 4097 } },
      w.agentToken,
    );
    expect([errorCode(big), problemPath(big)]).toEqual(['BAD_USER_INPUT', ['input', 'size']]);
    const program = await gql(
      t.url,
      CREATE_UPLOAD,
      { input: { fileName: 'setup.exe', contentType: 'application/x-msdownload', size: 100 } },
      w.agentToken,
    );
    expect([errorCode(program), problemPath(program)]).toEqual(['BAD_USER_INPUT', ['input', 'contentType']]);
    expect(errorCode(await gql(t.url, CREATE_UPLOAD, { input: { fileName: 'a.png', contentType: 'image/png', size: 10 } }))).toBe(
      'UNAUTHENTICATED',
    );

    const longer = await upload(w.agentToken, 'a.png', 'image/png', PNG, PNG.length - 4);
    expect([longer.status, longer.answer.error.code]).toEqual([413, 'too_large']);
    const shorter = await upload(w.agentToken, 'a.png', 'image/png', PNG, PNG.length + 4);
    expect([shorter.status, shorter.answer.error.code]).toEqual([400, 'incomplete']);
    const renamed = await upload(w.agentToken, 'photo.png', 'image/png', EXE);
    expect([renamed.status, renamed.answer.error.code]).toEqual([415, 'type_mismatch']);

    // None of them can be attached; nor can a file announced but never uploaded.
    const ticketId = await w.ticket(w.sari.id);
    for (const refused of [longer, shorter, renamed]) {
      const result = await gql(t.url, ADD, { input: { ticketId, body: 'x', fileIds: [refused.upload.fileId] } }, w.agentToken);
      expect([errorCode(result), problemPath(result)]).toEqual(['BAD_USER_INPUT', ['input', 'fileIds', 0]]);
    }
    // An upload URL takes one file once, and a forged one nothing.
    const done = await upload(w.agentToken, 'ok.pdf', 'application/pdf', PDF);
    const twice = await fetch(local(done.upload.uploadUrl), { method: 'PUT', body: PDF });
    expect(twice.status).toBe(409);
    const tampered = done.upload.uploadUrl.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A'));
    expect((await fetch(local(tampered), { method: 'PUT', body: PDF })).status).toBe(404);
    expect(
      await t.app.dataSource.query(`SELECT count(*)::int AS n FROM ticket_message WHERE "ticketId" = $1 AND body = 'x'`, [
        ticketId,
      ]),
    ).toEqual([{ n: 0 }]);
  });

  it("gives an attacker nothing: another tenant's or another customer's file id answers NOT_FOUND, and a guessed link 404", async () => {
    const w = await world();
    const attacker = await world();
    const ticketId = await w.ticket(w.sari.id);
    const sariToken = await w.customer(w.sari.id);
    const sariFile = await upload(sariToken, 'invoice.pdf', 'application/pdf', PDF);
    const agentFile = await upload(w.agentToken, 'quote.pdf', 'application/pdf', PDF);

    // Budi (same tenant) and the attacker's agent try to attach them to tickets of their own.
    const budiTicket = await w.ticket(w.budi.id);
    const budi = await gql(
      t.url,
      ADD,
      { input: { ticketId: budiTicket, body: 'mine', fileIds: [sariFile.upload.fileId] } },
      await w.customer(w.budi.id),
    );
    expect(errorCode(budi)).toBe('NOT_FOUND');
    const theirTicket = await attacker.ticket(attacker.sari.id);
    const stolen = await gql(
      t.url,
      ADD,
      { input: { ticketId: theirTicket, body: 'mine', fileIds: [agentFile.upload.fileId] } },
      attacker.agentToken,
    );
    expect(errorCode(stolen)).toBe('NOT_FOUND');
    const malformed = await gql(
      t.url,
      ADD,
      { input: { ticketId: theirTicket, body: 'mine', fileIds: ['../../etc/passwd'] } },
      attacker.agentToken,
    );
    expect(errorCode(malformed)).toBe('BAD_USER_INPUT');
    expect(await t.app.dataSource.query(`SELECT count(*)::int AS n FROM ticket_message WHERE body = 'mine'`)).toEqual([{ n: 0 }]);

    const { addTicketMessage } = await gqlOk(
      t.url,
      ADD,
      { input: { ticketId, body: 'Invoice', fileIds: [sariFile.upload.fileId] } },
      sariToken,
    );
    const link = new URL(addTicketMessage.attachments[0].url);
    // The link for one file does not open another, a guessed signature opens nothing, nor a link without one.
    const other = new URL(link);
    other.pathname = `/files/${agentFile.upload.fileId}`;
    const guessed = new URL(link);
    guessed.searchParams.set('s', 'A'.repeat(43));
    const unsigned = new URL(link);
    unsigned.search = '';
    for (const attempt of [other, guessed, unsigned]) expect((await fetch(local(attempt.toString()))).status).toBe(404);
    // A file on the ticket itself: its requester may open it, another customer's rewritten link not.
    const photo = await upload(w.agentToken, 'site.png', 'image/png', PNG);
    const { createTicket } = await gqlOk(
      t.url,
      `mutation ($input: CreateTicketInput!) { createTicket(input: $input) { id attachments { fileId url } } }`,
      { input: { subject: 'Site visit', requesterId: w.sari.id, fileIds: [photo.upload.fileId] } },
      w.agentToken,
    );
    expect(createTicket.attachments).toEqual([{ fileId: photo.upload.fileId, url: expect.any(String) }]);
    const { ticket: own } = await gqlOk(
      t.url,
      `query ($id: ID!) { ticket(id: $id) { attachments { url } } }`,
      { id: createTicket.id },
      sariToken,
    );
    expect((await fetch(local(own.attachments[0].url))).status).toBe(200);
    const rewritten = new URL(own.attachments[0].url);
    rewritten.searchParams.set('w', `c${w.budi.id}`);
    expect((await fetch(local(rewritten.toString()))).status).toBe(404);
    // The attacker tenant's agent cannot read Sari's ticket, so gets no link to the file at all.
    expect(errorCode(await gql(t.url, THREAD, { id: ticketId }, attacker.agentToken))).toBe('NOT_FOUND');
    expect((await fetch(local(link.toString()))).status).toBe(200);
  });
});

/** The same files in an S3-compatible bucket: clients PUT to presigned URLs, the API checks the object before attaching it. */
describe('stored files in S3', () => {
  let t: TestApp;
  let s3: S3Fake;

  beforeAll(async () => {
    s3 = await new S3Fake('desk-files').start();
    t = await startTestApp(undefined, {
      S3_BUCKET: 'desk-files',
      S3_ENDPOINT: s3.url,
      S3_ACCESS_KEY_ID: 'minio-key',
      S3_SECRET_ACCESS_KEY: 'minio-secret-key',
    });
  });
  afterAll(async () => {
    await t.stop();
    await s3.stop();
  });

  it('takes completion photos through presigned PUTs, checks them in the bucket, and serves them to the job’s customer only', async () => {
    const ds = t.app.dataSource;
    const tenant = await makeTenant(ds);
    const admin = await makeUser(ds, tenant, { role: Role.ADMIN });
    const technician = await makeUser(ds, tenant, { role: Role.TECHNICIAN, externalId: 'TECH-S3' });
    const sari = await makeContact(ds, tenant, { name: 'Sari', phone: '+6281298769101' });
    const budi = await makeContact(ds, tenant, { name: 'Budi', phone: '+6281298769102' });
    const staff = { kind: 'staff' as const, tenantId: tenant.id, userId: admin.id, role: Role.ADMIN as const, name: 'Admin' };
    const customer = async (contactId: string) => (await t.app.services.auth.issueCustomerToken(staff, contactId)).token;
    const technicianToken = (await t.app.services.auth.login(technician.email, PASSWORD)).token;
    const announce = async (fileName: string, contentType: string, size: number) =>
      (await gqlOk(t.url, CREATE_UPLOAD, { input: { fileName, contentType, size } }, technicianToken)).createUpload;

    const photo = await announce('after.png', 'image/png', PNG.length);
    const presigned = new URL(photo.uploadUrl);
    expect(presigned.origin).toBe(s3.url);
    expect(presigned.pathname).toBe(`/desk-files/${tenant.id}/${photo.fileId}`);
    expect(presigned.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
    expect((await fetch(photo.uploadUrl, { method: 'PUT', headers: photo.headers, body: PNG })).status).toBe(200);
    // A second "photo" whose bytes in the bucket are not the PNG announced.
    const fake = await announce('fake.png', 'image/png', EXE.length);
    await fetch(fake.uploadUrl, { method: 'PUT', headers: fake.headers, body: EXE });
    const never = await announce('never.png', 'image/png', PNG.length);

    const jobId = await makeServiceJob(t.app.services, tenant, sari.id, 'TECH-S3', 'JOB-S3');
    const REQUEST = `mutation ($jobId: ID!, $photos: [ID!]) { requestCompletion(jobId: $jobId, photoFileIds: $photos) { id photoFiles { fileId url filename } } }`;
    for (const [bad, code] of [
      [fake.fileId, 'BAD_USER_INPUT'],
      [never.fileId, 'BAD_USER_INPUT'],
    ] as const) {
      const refused = await gql(t.url, REQUEST, { jobId, photos: [photo.fileId, bad] }, technicianToken);
      expect([errorCode(refused), problemPath(refused)]).toEqual([code, ['photoFileIds', 1]]);
    }
    // The refused request left nothing behind, and the mismatched object is gone from the bucket.
    expect(await ds.query(`SELECT count(*)::int AS n FROM completion_request WHERE "jobId" = $1`, [jobId])).toEqual([{ n: 0 }]);
    expect(s3.objects.has(`${tenant.id}/${fake.fileId}`)).toBe(false);

    const { requestCompletion } = await gqlOk(t.url, REQUEST, { jobId, photos: [photo.fileId] }, technicianToken);
    expect(requestCompletion.photoFiles).toEqual([{ fileId: photo.fileId, url: expect.any(String), filename: 'after.png' }]);
    const QUERY = `query ($id: ID!) { completionRequest(id: $id) { photoFiles { url } } }`;
    const { completionRequest } = await gqlOk(t.url, QUERY, { id: requestCompletion.id }, await customer(sari.id));
    const download = await fetch(localLink(t, completionRequest.photoFiles[0].url));
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);
    // Every call the API made to the bucket was signed with the configured key.
    expect(
      s3.requests
        .filter((request) => !request.query.has('X-Amz-Signature'))
        .every((request) => request.authorization?.includes('Credential=minio-key/')),
    ).toBe(true);
    // Budi cannot read the request, and Sari's link does not work once rewritten for him.
    expect(errorCode(await gql(t.url, QUERY, { id: requestCompletion.id }, await customer(budi.id)))).toBe('NOT_FOUND');
    const forBudi = new URL(completionRequest.photoFiles[0].url);
    forBudi.searchParams.set('w', `c${budi.id}`);
    expect((await fetch(localLink(t, forBudi.toString()))).status).toBe(404);
  });
});
