import { Channel, DeliveryStatus } from '../src/entities/channel';
import { NoticeState, type NoticeRow, customerNotice } from '../src/services/delivery/customer-notices';

const row = (overrides: Partial<NoticeRow> = {}): NoticeRow => ({
  id: 'd1',
  channel: Channel.WHATSAPP,
  body: 'Your technician is on the way',
  status: DeliveryStatus.SENT,
  createdAt: new Date('2026-12-07T10:00:00Z'),
  updatedAt: new Date('2026-12-07T10:00:05Z'),
  retriedOn: null,
  locale: 'en',
  ...overrides,
});

describe('what a customer is told of a notification', () => {
  it('names each status in words: queued and sending are "being sent", failed, dead and expired are "not delivered"', () => {
    const states = Object.values(DeliveryStatus).map((status) => [status, customerNotice(row({ status }))?.stateText ?? null]);
    expect(Object.fromEntries(states)).toEqual({
      queued: 'Being sent by WhatsApp',
      sending: 'Being sent by WhatsApp',
      sent: 'Sent by WhatsApp',
      delivered: 'Delivered by WhatsApp',
      read: 'Read (WhatsApp)',
      failed: 'Could not be delivered by WhatsApp',
      dead: 'Could not be delivered by WhatsApp',
      expired: 'Could not be delivered by WhatsApp',
      cancelled: null,
    });
  });

  it('speaks Indonesian to id, id-ID and in contacts, English to any other or none', () => {
    const text = (locale: string | null) =>
      customerNotice(row({ locale, channel: Channel.EMAIL, status: DeliveryStatus.DELIVERED }))!.stateText;
    expect([text('id'), text('id-ID'), text('in')]).toEqual(['Sampai lewat email', 'Sampai lewat email', 'Sampai lewat email']);
    expect([text('en-GB'), text('nl'), text(null)]).toEqual([
      'Delivered by e-mail',
      'Delivered by e-mail',
      'Delivered by e-mail',
    ]);
  });

  it('says a failed one went again on the channel that carried it in its place, only when it failed', () => {
    expect(customerNotice(row({ status: DeliveryStatus.DEAD, retriedOn: Channel.SMS }))!.stateText).toBe(
      'Could not be delivered by WhatsApp; sent again by SMS',
    );
    expect(customerNotice(row({ status: DeliveryStatus.FAILED, retriedOn: Channel.SMS, locale: 'id' }))!.stateText).toBe(
      'Tidak dapat dikirim lewat WhatsApp; dikirim ulang lewat SMS',
    );
    expect(customerNotice(row({ status: DeliveryStatus.READ, retriedOn: Channel.SMS }))!.stateText).toBe('Read (WhatsApp)');
  });

  it('tells nothing of webhooks, and nothing but the text, channel, state and times', () => {
    expect(customerNotice(row({ channel: Channel.WEBHOOK }))).toBeNull();
    expect(customerNotice(row())).toEqual({
      id: 'd1',
      channel: Channel.WHATSAPP,
      text: 'Your technician is on the way',
      state: NoticeState.SENT,
      stateText: 'Sent by WhatsApp',
      queuedAt: new Date('2026-12-07T10:00:00Z'),
      changedAt: new Date('2026-12-07T10:00:05Z'),
    });
  });
});
