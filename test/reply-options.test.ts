import { metaMessagePayload } from '../src/channels/meta-whatsapp.adapter';
import { parseMetaWebhook } from '../src/channels/meta-webhook';
import type { OutboundMessage, ReplyOptions } from '../src/channels/types';
import { replyOptionsFor } from '../src/services/delivery/reply-options';

const message = (overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
  deliveryId: 'd1',
  to: '+6281200000001',
  subject: null,
  body: 'Is the job done? Reply YA or TIDAK.',
  metaTemplate: null,
  replyOptions: replyOptionsFor('completion_request'),
  ...overrides,
});

describe('reply options on Meta', () => {
  it('offers YA / TIDAK for completion requests and reminders, 1-5 for surveys, nothing for other notifications', () => {
    const ids = (type: string) => replyOptionsFor(type)?.options.map((option) => option.id) ?? null;
    expect([ids('completion_request'), ids('completion_reminder')]).toEqual([
      ['YA', 'TIDAK'],
      ['YA', 'TIDAK'],
    ]);
    expect(ids('satisfaction_survey')).toEqual(['1', '2', '3', '4', '5']);
    expect([ids('ticket_reply'), ids('campaign')]).toEqual([null, null]);
  });

  it('sends up to three answers as reply buttons and more as a list', () => {
    expect(metaMessagePayload(message())).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '6281200000001',
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Is the job done? Reply YA or TIDAK.' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'YA', title: 'YA' } },
            { type: 'reply', reply: { id: 'TIDAK', title: 'TIDAK' } },
          ],
        },
      },
    });
    expect(metaMessagePayload(message({ replyOptions: replyOptionsFor('satisfaction_survey') })).interactive).toEqual({
      type: 'list',
      body: { text: 'Is the job done? Reply YA or TIDAK.' },
      action: { button: '1-5', sections: [{ rows: ['1', '2', '3', '4', '5'].map((id) => ({ id, title: id })) }] },
    });
  });

  it("falls back to plain text when the message would break Meta's interactive limits, or offers nothing", () => {
    const long = 'x'.repeat(1025);
    const wordy: ReplyOptions = { listLabel: 'Pick', options: [{ id: 'a', title: 'An answer far too long for a button' }] };
    const many: ReplyOptions = {
      listLabel: 'Pick',
      options: Array.from({ length: 11 }, (_, i) => ({ id: `${i}`, title: `${i}` })),
    };
    for (const overrides of [{ body: long }, { replyOptions: wordy }, { replyOptions: many }, { replyOptions: null }]) {
      const payload = metaMessagePayload(message(overrides));
      expect(payload.type).toBe('text');
      expect(payload.text).toEqual({ preview_url: false, body: overrides.body ?? message().body });
    }
  });

  it('sends a template as the template, without buttons of its own', () => {
    const payload = metaMessagePayload(message({ metaTemplate: { name: 'job_done', language: 'id', parameters: ['Sari'] } }));
    expect(payload).toMatchObject({
      type: 'template',
      template: {
        name: 'job_done',
        language: { code: 'id' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Sari' }] }],
      },
    });
  });

  it('reads a tapped button or list row as its id, and a template quick reply as its payload', () => {
    const inbound = (message: Record<string, unknown>) =>
      parseMetaWebhook({
        entry: [
          {
            id: 'WABA',
            changes: [
              {
                field: 'messages',
                value: {
                  metadata: { phone_number_id: '1055' },
                  messages: [{ id: 'wamid.1', from: '6281200000001', ...message }],
                },
              },
            ],
          },
        ],
      }).messages[0].text;
    expect(
      inbound({
        type: 'interactive',
        interactive: { type: 'button_reply', button_reply: { id: 'TIDAK', title: 'Tidak, belum' } },
      }),
    ).toBe('TIDAK');
    expect(
      inbound({ type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: '4', title: '4 - Good' } } }),
    ).toBe('4');
    expect(inbound({ type: 'button', button: { payload: 'YA', text: 'Ya, sudah' } })).toBe('YA');
    expect(inbound({ type: 'image' })).toBe('[image message]');
  });

  it('sends a file as Meta media by link: a document with its name, a photo, a template media header, a header above buttons', () => {
    const pdf = {
      link: 'https://desk.test/files/f1?s=x',
      contentType: 'application/pdf',
      fileName: 'INV-42.pdf',
      kind: 'document' as const,
    };
    const photo = {
      link: 'https://desk.test/files/f2?s=y',
      contentType: 'image/png',
      fileName: 'after.png',
      kind: 'image' as const,
    };
    expect(metaMessagePayload(message({ media: pdf, replyOptions: null }))).toMatchObject({
      type: 'document',
      document: { link: pdf.link, filename: 'INV-42.pdf', caption: 'Is the job done? Reply YA or TIDAK.' },
    });
    const long = metaMessagePayload(message({ media: photo, replyOptions: null, body: 'y'.repeat(2000) }));
    expect([long.type, (long.image as any).caption.length, (long.image as any).filename]).toEqual(['image', 1024, undefined]);
    expect(metaMessagePayload(message({ media: photo })).interactive).toMatchObject({
      type: 'button',
      header: { type: 'image', image: { link: photo.link } },
    });
    expect(
      (
        metaMessagePayload(message({ media: pdf, metaTemplate: { name: 'invoice', language: 'id', parameters: ['Sari'] } }))
          .template as any
      ).components,
    ).toEqual([
      { type: 'header', parameters: [{ type: 'document', document: { link: pdf.link, filename: 'INV-42.pdf' } }] },
      { type: 'body', parameters: [{ type: 'text', text: 'Sari' }] },
    ]);
  });
});
