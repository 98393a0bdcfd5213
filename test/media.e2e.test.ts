import { Role } from '../src/entities/user.entity';
import { ProviderFake } from './fakes/provider-fake';
import { PASSWORD, addMetaProvider, makeContact, makeTenant, makeUser, makeServiceJob } from './helpers/factories';
import { postMetaChange } from './helpers/meta-inbound';
import { type TestApp, errorCode, gql, gqlOk, startTestApp, dispatchAll } from './helpers/test-app';
import { ProviderKind } from '../src/entities/channel';

const APP_SECRET = 'meta-app-secret';
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('a photo of the AC unit')]);
const PDF = Buffer.from('%PDF-1.4\n% invoice INV-42\n%%EOF\n');
const OGG = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(40, 1)]);
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(40, 0x90)]);
const THREAD = `query ($id: ID!) { ticket(id: $id) { messages { edges { node { body attachments { fileId url filename contentType size } } } } } }`;

/** Issue 23.4: what customers send on WhatsApp besides text lands in the thread as files; messages carry files out. */
describe('WhatsApp media in and out', () => {
  let t: TestApp;
  let fake: ProviderFake;

  beforeAll(async () => {
    fake = await new ProviderFake().start();
    t = await startTestApp(undefined, { META_APP_SECRET: APP_SECRET, MAX_UPLOAD_BYTES: '4096' });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  const local = (link: string) => {
    const url = new URL(link);
    return `${t.url}${url.pathname}${url.search}`;
  };

  it('downloads photos, documents and voice notes from Meta into the thread, describes locations, and says what it could not keep', async () => {
    const tenant = await makeTenant(t.app.dataSource);
    const agent = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT });
    const provider = await addMetaProvider(t.app.services, tenant, fake.url);
    const phoneNumberId = String(provider.settings.phoneNumberId);
    const from = '6281298760801';
    let sequence = 0;
    // A second passes between messages (the test clock stands still otherwise), so the thread keeps their order.
    const send = (message: Record<string, unknown>, id = `wamid.MEDIA${++sequence}`) => {
      t.clock.advance(1000);
      return postMetaChange(t.url, APP_SECRET, phoneNumberId, {
        contacts: [{ profile: { name: 'Sari' }, wa_id: from }],
        messages: [{ from, id, timestamp: String(Math.floor(Date.now() / 1000)), ...message }],
      });
    };
    fake.addMedia('media-photo', PNG, 'image/png');
    fake.addMedia('media-invoice', PDF, 'application/pdf');
    fake.addMedia('media-voice', OGG, 'audio/ogg; codecs=opus');
    fake.addMedia('media-huge', PNG, 'image/png', 10_000_000);
    fake.addMedia('media-fake', EXE, 'image/png');

    expect(
      await send({ type: 'image', image: { id: 'media-photo', mime_type: 'image/png', caption: 'Foto AC-nya' } }, 'wamid.PHOTO'),
    ).toBe(200);
    // Meta delivers the same webhook again: still one message, one file.
    expect(
      await send({ type: 'image', image: { id: 'media-photo', mime_type: 'image/png', caption: 'Foto AC-nya' } }, 'wamid.PHOTO'),
    ).toBe(200);
    await send({ type: 'document', document: { id: 'media-invoice', mime_type: 'application/pdf', filename: 'INV-42.pdf' } });
    await send({ type: 'audio', audio: { id: 'media-voice', mime_type: 'audio/ogg; codecs=opus', voice: true } });
    await send({
      type: 'location',
      location: { latitude: -6.2, longitude: 106.816666, name: 'Rumah', address: 'Jl. Sudirman 1' },
    });
    await send({ type: 'image', image: { id: 'media-huge', mime_type: 'image/png' } });
    await send({ type: 'image', image: { id: 'media-fake', mime_type: 'image/png' } });
    await send({ type: 'video', video: { id: 'media-missing', mime_type: 'video/x-msvideo' } });

    const [{ id: ticketId }] = await t.app.dataSource.query(`SELECT id FROM ticket WHERE "tenantId" = $1`, [tenant.id]);
    const token = (await t.app.services.auth.login(agent.email, PASSWORD)).token;
    const { ticket } = await gqlOk(t.url, THREAD, { id: ticketId }, token);
    const thread = ticket.messages.edges.map((edge: any) => edge.node);
    expect(
      thread.map((message: any) => [
        message.body,
        message.attachments.map((file: any) => [file.filename, file.contentType, file.size]),
      ]),
    ).toEqual([
      ['Foto AC-nya', [['image.png', 'image/png', PNG.length]]],
      ['[document]', [['INV-42.pdf', 'application/pdf', PDF.length]]],
      ['[voice note]', [['voice-note.ogg', 'audio/ogg', OGG.length]]],
      ['[location] Rumah, Jl. Sudirman 1 (-6.2,106.816666) https://maps.google.com/?q=-6.2,106.816666', []],
      ['[image]\n(The image could not be received: it is too large.)', []],
      ['[image]\n(The image could not be received: it is not the image/png it claims to be.)', []],
      ['[video]\n(The video could not be received: files of type video/x-msvideo are not kept.)', []],
    ]);
    // The agent opens the photo: the bytes the customer sent.
    const download = await fetch(local(thread[0].attachments[0].url));
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);
    // Each download asked Meta with the provider's token, and only Meta's own URLs were followed.
    const mediaRequests = fake.received('metaMedia');
    expect(mediaRequests.every((request) => request.headers.authorization === 'Bearer meta-token')).toBe(true);
    expect(mediaRequests.map((request) => request.path)).not.toContain('/v21.0/media-missing');
  });

  it('sends a document or photo with a message: as Meta media by a link that opens only that file, as a link on a gateway', async () => {
    const ds = t.app.dataSource;
    const tenant = await makeTenant(ds);
    const agent = await makeUser(ds, tenant, { role: Role.AGENT });
    const technician = await makeUser(ds, tenant, { role: Role.TECHNICIAN, externalId: 'TECH-M' });
    const contact = await makeContact(ds, tenant, { name: 'Sari', phone: '+6281298760802' });
    await addMetaProvider(t.app.services, tenant, fake.url);
    const token = (await t.app.services.auth.login(agent.email, PASSWORD)).token;
    const technicianToken = (await t.app.services.auth.login(technician.email, PASSWORD)).token;
    const upload = async (who: string, fileName: string, contentType: string, bytes: Buffer) => {
      const { createUpload } = await gqlOk(
        t.url,
        `mutation ($input: CreateUploadInput!) { createUpload(input: $input) { fileId uploadUrl } }`,
        { input: { fileName, contentType, size: bytes.length } },
        who,
      );
      expect((await fetch(local(createUpload.uploadUrl), { method: 'PUT', body: bytes })).status).toBe(201);
      return createUpload.fileId as string;
    };
    const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id attachment { fileId filename contentType } } }`;
    fake.reset();

    const invoice = await upload(token, 'INV-42.pdf', 'application/pdf', PDF);
    const { sendMessage } = await gqlOk(
      t.url,
      SEND,
      { input: { channel: 'WHATSAPP', contactId: contact.id, text: 'Your invoice', fileId: invoice } },
      token,
    );
    expect(sendMessage.attachment).toEqual({ fileId: invoice, filename: 'INV-42.pdf', contentType: 'application/pdf' });
    await dispatchAll(t);
    const [sent] = fake.received('meta');
    expect(sent.body).toMatchObject({
      type: 'document',
      document: { filename: 'INV-42.pdf', caption: 'Your invoice', link: expect.stringContaining(`/files/${invoice}?`) },
    });
    // Meta fetches the file by the link: the bytes; the same link with another file's id opens nothing.
    const fetched = await fetch(local(sent.body.document.link));
    expect(Buffer.from(await fetched.arrayBuffer()).equals(PDF)).toBe(true);
    const photo = await upload(technicianToken, 'after.png', 'image/png', PNG);
    const other = new URL(sent.body.document.link);
    other.pathname = `/files/${photo}`;
    expect((await fetch(local(other.toString()))).status).toBe(404);

    // A completion request shows its first photo above the YA / TIDAK buttons.
    const jobId = await makeServiceJob(t.app.services, tenant, contact.id, 'TECH-M', 'JOB-M');
    await gqlOk(
      t.url,
      `mutation ($jobId: ID!, $photos: [ID!]) { requestCompletion(jobId: $jobId, photoFileIds: $photos) { id } }`,
      { jobId, photos: [photo] },
      technicianToken,
    );
    await dispatchAll(t);
    const question = fake.received('meta').find((request) => request.body.type === 'interactive')!;
    expect(question.body.interactive).toMatchObject({
      type: 'button',
      header: { type: 'image', image: { link: expect.stringContaining(`/files/${photo}?`) } },
      action: { buttons: [{ reply: { id: 'YA' } }, { reply: { id: 'TIDAK' } }] },
    });

    // A business on a gateway (no media): the file's name and link follow the text.
    const gatewayTenant = await makeTenant(ds);
    const gatewayAgent = await makeUser(ds, gatewayTenant, { role: Role.AGENT });
    const gatewayContact = await makeContact(ds, gatewayTenant, { phone: '+6281298760804' });
    await t.app.services.providers.create(
      { kind: 'staff', tenantId: gatewayTenant.id, userId: gatewayAgent.id, role: Role.ADMIN, name: 'Admin' },
      { kind: ProviderKind.FONNTE, name: 'Fonnte', baseUrl: fake.url, settings: {}, credentials: { token: 'fonnte-token' } },
    );
    const gatewayToken = (await t.app.services.auth.login(gatewayAgent.email, PASSWORD)).token;
    const gatewayInvoice = await upload(gatewayToken, 'INV-43.pdf', 'application/pdf', PDF);
    await gqlOk(
      t.url,
      SEND,
      { input: { channel: 'WHATSAPP', contactId: gatewayContact.id, text: 'Invoice', fileId: gatewayInvoice } },
      gatewayToken,
    );
    await dispatchAll(t);
    const [gateway] = fake.received('fonnte');
    expect(gateway.body.message).toMatch(new RegExp(`^Invoice\\n\\nINV-43\\.pdf: http://localhost:0/files/${gatewayInvoice}\\?`));
    const tapped = await fetch(local(/http\S+/.exec(gateway.body.message)![0]));
    expect(Buffer.from(await tapped.arrayBuffer()).equals(PDF)).toBe(true);

    // Another tenant's agent cannot send this tenant's file.
    const attackerTenant = await makeTenant(ds);
    const attacker = await makeUser(ds, attackerTenant, { role: Role.AGENT });
    const attackerContact = await makeContact(ds, attackerTenant, { phone: '+6281298760803' });
    const attackerToken = (await t.app.services.auth.login(attacker.email, PASSWORD)).token;
    const stolen = await gql(
      t.url,
      SEND,
      { input: { channel: 'WHATSAPP', contactId: attackerContact.id, text: 'x', fileId: invoice } },
      attackerToken,
    );
    expect(errorCode(stolen)).toBe('NOT_FOUND');
    expect(await ds.query(`SELECT count(*)::int AS n FROM delivery WHERE "tenantId" = $1`, [attackerTenant.id])).toEqual([
      { n: 0 },
    ]);
  });
});
