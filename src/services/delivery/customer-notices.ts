import { registerEnumType } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import { Channel, DeliveryStatus } from '../../entities/channel';

/**
 * What a customer may know of a notification sent to them: that it left, reached them, was
 * read, or could not be delivered, in words of their language. Never the provider, the error,
 * the address it went to (the test recipient in test mode) or anyone else's messages.
 */
export enum NoticeState {
  SENDING = 'sending',
  SENT = 'sent',
  DELIVERED = 'delivered',
  READ = 'read',
  NOT_DELIVERED = 'not_delivered',
}

registerEnumType(NoticeState, {
  name: 'NoticeState',
  description: 'How far a notification to the customer got, as the customer may know it.',
  valuesConfig: {
    SENDING: { description: 'Queued or being handed to the provider.' },
    SENT: { description: 'Accepted by the provider.' },
    DELIVERED: { description: "Reached the customer's device or mailbox." },
    READ: { description: 'The customer opened it.' },
    NOT_DELIVERED: { description: 'It could not be delivered, or was no longer current when its turn came.' },
  },
});

export interface CustomerNotice {
  id: string;
  channel: Channel;
  text: string;
  state: NoticeState;
  stateText: string;
  queuedAt: Date;
  changedAt: Date;
}

/** A delivery as read for its customer: no provider, error or address fields. */
export interface NoticeRow {
  id: string;
  channel: Channel;
  body: string;
  status: DeliveryStatus;
  createdAt: Date;
  updatedAt: Date;
  /** Channel of the delivery that went again in its place (fallback or operator's resend), if any. */
  retriedOn: Channel | null;
  /** The contact's language, else the tenant's. */
  locale: string | null;
}

const STATES: Record<DeliveryStatus, NoticeState | null> = {
  [DeliveryStatus.QUEUED]: NoticeState.SENDING,
  [DeliveryStatus.SENDING]: NoticeState.SENDING,
  [DeliveryStatus.SENT]: NoticeState.SENT,
  [DeliveryStatus.DELIVERED]: NoticeState.DELIVERED,
  [DeliveryStatus.READ]: NoticeState.READ,
  [DeliveryStatus.FAILED]: NoticeState.NOT_DELIVERED,
  [DeliveryStatus.DEAD]: NoticeState.NOT_DELIVERED,
  [DeliveryStatus.EXPIRED]: NoticeState.NOT_DELIVERED,
  // Withdrawn before it left: nothing the customer could have been told of.
  [DeliveryStatus.CANCELLED]: null,
};

/** Delivery statuses a customer never hears of. */
export const HIDDEN_FROM_CUSTOMERS = (Object.keys(STATES) as DeliveryStatus[]).filter((status) => STATES[status] === null);

type Words = {
  channels: Record<Channel, string>;
  states: Record<NoticeState, (channel: string) => string>;
  retried: (channel: string) => string;
};

const WORDS: Record<'en' | 'id', Words> = {
  en: {
    channels: { [Channel.WHATSAPP]: 'WhatsApp', [Channel.SMS]: 'SMS', [Channel.EMAIL]: 'e-mail', [Channel.WEBHOOK]: 'webhook' },
    states: {
      [NoticeState.SENDING]: (channel) => `Being sent by ${channel}`,
      [NoticeState.SENT]: (channel) => `Sent by ${channel}`,
      [NoticeState.DELIVERED]: (channel) => `Delivered by ${channel}`,
      [NoticeState.READ]: (channel) => `Read (${channel})`,
      [NoticeState.NOT_DELIVERED]: (channel) => `Could not be delivered by ${channel}`,
    },
    retried: (channel) => `sent again by ${channel}`,
  },
  id: {
    channels: { [Channel.WHATSAPP]: 'WhatsApp', [Channel.SMS]: 'SMS', [Channel.EMAIL]: 'email', [Channel.WEBHOOK]: 'webhook' },
    states: {
      [NoticeState.SENDING]: (channel) => `Sedang dikirim lewat ${channel}`,
      [NoticeState.SENT]: (channel) => `Terkirim lewat ${channel}`,
      [NoticeState.DELIVERED]: (channel) => `Sampai lewat ${channel}`,
      [NoticeState.READ]: (channel) => `Sudah dibaca (${channel})`,
      [NoticeState.NOT_DELIVERED]: (channel) => `Tidak dapat dikirim lewat ${channel}`,
    },
    retried: (channel) => `dikirim ulang lewat ${channel}`,
  },
};

/** English unless the language tag is Indonesian (id, id-ID, in). */
function wordsFor(locale: string | null): Words {
  const language = (locale ?? '').toLowerCase().split(/[-_]/)[0];
  return language === 'id' || language === 'in' ? WORDS.id : WORDS.en;
}

/** The customer's view of one delivery, or null for one they must not hear of. */
export function customerNotice(row: NoticeRow): CustomerNotice | null {
  const state = STATES[row.status];
  if (state === null || row.channel === Channel.WEBHOOK) return null;
  const words = wordsFor(row.locale);
  let stateText = words.states[state](words.channels[row.channel]);
  if (state === NoticeState.NOT_DELIVERED && row.retriedOn) stateText += `; ${words.retried(words.channels[row.retriedOn])}`;
  return {
    id: row.id,
    channel: row.channel,
    text: row.body,
    state,
    stateText,
    queuedAt: row.createdAt,
    changedAt: row.updatedAt,
  };
}

/** Which subjects' notifications: tickets or completion requests. */
export type NoticeSubject = 'ticket' | 'completion_request';

const SUBJECT_COLUMN: Record<NoticeSubject, string> = { ticket: '"ticketId"', completion_request: '"completionRequestId"' };

/** The newest notifications per subject a customer may see of. */
export const NOTICES_PER_SUBJECT = 50;

/**
 * Notifications sent to contacts about each subject (newest first, at most
 * NOTICES_PER_SUBJECT each): not staff messages, not thread replies (those show on their
 * message), not webhooks; only the contact's own when contactId is given.
 */
export async function noticeRows(
  manager: Pick<EntityManager, 'query'>,
  tenantId: string,
  subject: NoticeSubject,
  subjectIds: readonly string[],
  contactId: string | null,
): Promise<Array<NoticeRow & { subjectId: string }>> {
  if (!subjectIds.length) return [];
  const column = SUBJECT_COLUMN[subject];
  return manager.query(
    `SELECT id, channel, body, status, "createdAt", "updatedAt", "subjectId", "retriedOn", locale FROM (
       SELECT d.id, d.channel, d.body, d.status, d."createdAt", d."updatedAt", d.${column} AS "subjectId",
              COALESCE(c.locale, t.locale) AS locale,
              (SELECT again.channel FROM delivery again
                WHERE again."parentDeliveryId" = d.id AND again."tenantId" = d."tenantId"
                ORDER BY again."createdAt" LIMIT 1) AS "retriedOn",
              row_number() OVER (PARTITION BY d.${column} ORDER BY d."createdAt" DESC, d.id DESC) AS position
         FROM delivery d
         JOIN contact c ON c.id = d."contactId" AND c."tenantId" = d."tenantId"
         JOIN tenant t ON t.id = d."tenantId"
        WHERE d."tenantId" = $1 AND d.${column} = ANY($2::uuid[])
          AND d."userId" IS NULL AND d."ticketMessageId" IS NULL
          AND d.channel <> 'webhook' AND d.status <> ALL($3::delivery_status[])
          AND ($4::uuid IS NULL OR d."contactId" = $4)
     ) notices WHERE position <= ${NOTICES_PER_SUBJECT}
     ORDER BY "createdAt" DESC, id DESC`,
    [tenantId, subjectIds, HIDDEN_FROM_CUSTOMERS, contactId],
  );
}
