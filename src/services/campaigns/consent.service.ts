import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Channel } from '../../entities/channel';
import { Contact } from '../../entities/contact.entity';
import { ConsentChange } from '../../entities/consent-change.entity';
import { Tenant } from '../../entities/tenant.entity';
import type { DeliveryHistory } from '../delivery/delivery-history';
import type { DeliveryService } from '../delivery/delivery.service';
import type { Clock } from '../platform/clock';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';

const CONFIRMATIONS = {
  stop: {
    en: 'You will no longer receive promotional messages from {{tenant}} here. Reply START to subscribe again.',
    id: 'Anda tidak akan lagi menerima pesan promosi dari {{tenant}} di sini. Balas MULAI untuk berlangganan lagi.',
  },
  start: {
    en: 'You are subscribed to messages from {{tenant}} again. Reply STOP to unsubscribe.',
    id: 'Anda kembali berlangganan pesan dari {{tenant}}. Balas BERHENTI untuk berhenti berlangganan.',
  },
};

/** Days after a campaign message during which a reply or an opt-out counts for it. */
const ATTRIBUTION_DAYS = 7;

/**
 * Opt-outs and opt-ins (a contact's marketing consent per channel, each change recorded
 * with its source), and what recipients do with a campaign message: reply, click a
 * tracked link, unsubscribe.
 */
export class ConsentService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly deliveries: DeliveryService,
    private readonly history: DeliveryHistory,
    private readonly clock: Clock,
  ) {}

  /**
   * An inbound message that is a stop or start keyword of the tenant: changes the
   * contact's consent on that channel and confirms once (per inbound message). True
   * when it was one, so it does not also become a support message.
   */
  async handleKeyword(contact: Contact, text: string, channel: Channel, inboundId: string): Promise<boolean> {
    const word = text.trim().toUpperCase();
    if (!word || word.length > 30) return false;
    const tenant = await this.dataSource.getRepository(Tenant).findOneByOrFail({ id: contact.tenantId });
    const stop = tenant.stopKeywords.map((keyword) => keyword.toUpperCase()).includes(word);
    const start = !stop && tenant.startKeywords.map((keyword) => keyword.toUpperCase()).includes(word);
    if (!stop && !start) return false;
    // Said again (a second STOP, a START while subscribed): nothing changes, and no second confirmation.
    const current = await this.dataSource.getRepository(Contact).findOneBy({ id: contact.id });
    const granted = current?.consent?.[channel]?.granted;
    if (stop ? granted === false : granted === true) return true;
    await this.transactor.run((uow) => this.set(uow, contact, channel, start, `keyword:${word}`));
    const language = (contact.locale ?? tenant.locale).split('-')[0] === 'id' ? 'id' : 'en';
    await this.deliveries.enqueue(contact.tenantId, {
      channel,
      contactId: contact.id,
      text: CONFIRMATIONS[stop ? 'stop' : 'start'][language].replace('{{tenant}}', tenant.name),
      notificationType: stop ? 'opt_out_confirmation' : 'opt_in_confirmation',
      idempotencyKey: `consent:${inboundId}`,
    });
    return true;
  }

  /**
   * Records a consent change: the contact's consent for the channel, its history row, and
   * for an opt-out, the recent campaign messages it answers marked unsubscribed and every
   * marketing message still queued for it on that channel cancelled (all campaign
   * messages when the tenant's opt-outs cover everything).
   */
  async set(uow: UnitOfWork, contact: Contact, channel: Channel, granted: boolean, source: string): Promise<void> {
    const { manager } = uow;
    const now = this.clock.now();
    await manager.query(
      `UPDATE contact SET consent = consent || jsonb_build_object($2::text, jsonb_build_object('granted', $3::boolean, 'at', $4::text, 'source', $5::text)),
              "updatedAt" = $6
        WHERE id = $1`,
      [contact.id, channel, granted, now.toISOString(), source, now],
    );
    await manager.insert(ConsentChange, { tenantId: contact.tenantId, contactId: contact.id, channel, granted, source, at: now });
    if (granted) return;
    await manager.query(
      `UPDATE campaign_recipient r SET "unsubscribedAt" = $3
         FROM delivery d
        WHERE r."tenantId" = $1 AND r."contactId" = $2 AND r."unsubscribedAt" IS NULL AND d.id = r."deliveryId"
          AND d.channel = $4 AND d."sentAt" IS NOT NULL AND d."sentAt" > $3::timestamptz - interval '${ATTRIBUTION_DAYS} days'`,
      [contact.tenantId, contact.id, now, channel],
    );
    const { optOutCoversAll } = await manager.findOneByOrFail(Tenant, { id: contact.tenantId });
    await this.history.cancelWhere(
      uow,
      { tenantId: contact.tenantId, contactId: contact.id, channel, campaignMessages: optOutCoversAll ? 'any' : 'marketing' },
      { code: 'OPTED_OUT', message: 'The contact opted out of marketing on this channel' },
    );
  }

  /** Whose unsubscribe link a token is (the tenant's name and the channel), changing nothing; null for an unknown token. */
  async unsubscribeTarget(token: string): Promise<{ tenantName: string; channel: Channel } | null> {
    const [row] = (await this.dataSource.query(
      `SELECT d.channel, t.name AS "tenantName"
         FROM campaign_recipient r JOIN delivery d ON d.id = r."deliveryId" JOIN tenant t ON t.id = r."tenantId"
        WHERE r."tokenHash" = $1 AND r."contactId" IS NOT NULL`,
      [hashToken(token)],
    )) as Array<{ channel: Channel; tenantName: string }>;
    return row ?? null;
  }

  /** The unsubscribe link (or one-click POST) of a campaign message: opts out on its channel. Null for an unknown token. */
  async unsubscribe(token: string, source: string): Promise<{ tenantName: string; channel: Channel } | null> {
    return this.transactor.run(async (uow) => {
      const { manager } = uow;
      const [row] = (await manager.query(
        `SELECT r."contactId", d.channel, t.name AS "tenantName"
           FROM campaign_recipient r JOIN delivery d ON d.id = r."deliveryId" JOIN tenant t ON t.id = r."tenantId"
          WHERE r."tokenHash" = $1 AND r."contactId" IS NOT NULL`,
        [hashToken(token)],
      )) as Array<{ contactId: string; channel: Channel; tenantName: string }>;
      if (!row) return null;
      const contact = await manager.findOneByOrFail(Contact, { id: row.contactId });
      if (contact.consent?.[row.channel]?.granted !== false) await this.set(uow, contact, row.channel, false, source);
      return { tenantName: row.tenantName, channel: row.channel };
    });
  }

  /** A click on a tracked link: the first one is recorded; the target, or null for an unknown token or index. */
  async click(token: string, index: number): Promise<string | null> {
    const [rows] = (await this.dataSource.query(
      `UPDATE campaign_recipient SET "clickedAt" = COALESCE("clickedAt", $3)
        WHERE "tokenHash" = $1 AND cardinality(links) > $2::int
       RETURNING links[$2::int + 1] AS target`,
      [hashToken(token), index, this.clock.now()],
    )) as [Array<{ target: string }>, number];
    return rows[0]?.target ?? null;
  }

  /** A message from a contact: the campaign messages sent to them in the last days count it as a reply. */
  async noteReply(contact: Contact): Promise<void> {
    await this.dataSource.query(
      `UPDATE campaign_recipient r SET "repliedAt" = $3
         FROM delivery d
        WHERE r."tenantId" = $1 AND r."contactId" = $2 AND r."repliedAt" IS NULL AND d.id = r."deliveryId"
          AND d."sentAt" IS NOT NULL AND d."sentAt" > $3::timestamptz - interval '${ATTRIBUTION_DAYS} days'`,
      [contact.tenantId, contact.id, this.clock.now()],
    );
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
