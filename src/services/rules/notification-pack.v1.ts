import { Channel } from '../../entities/channel';
import { RuleTriggerType } from '../../entities/automation-rule.entity';
import type { RuleInput } from './rule-definition';

/**
 * The built-in notification pack, version 1: the notifications a service business needs,
 * as ordinary rules and templates each tenant can read, change or switch off. Installed
 * at tenant creation and, for tenants that existed before, by a migration.
 *
 * Frozen: the migration that installed it reads this file, so a change is a new version
 * (notification-pack.v2.ts and its own migration), never an edit here.
 */
export interface PackTemplate {
  channel: Channel;
  /** `<name>.<language>`: the rules name `<name>`, and the recipient's language picks. */
  name: string;
  subject?: string;
  body: string;
}

export interface PackRule {
  /** Stable key, kept in automation_rule.builtIn. */
  key: string;
  rule: RuleInput;
}

const whatsapp = (name: string, en: string, id: string): PackTemplate[] => [
  { channel: Channel.WHATSAPP, name: `${name}.en`, body: en },
  { channel: Channel.WHATSAPP, name: `${name}.id`, body: id },
];

export const PACK_TEMPLATES: PackTemplate[] = [
  ...whatsapp(
    'ticket_assigned',
    'New ticket for you: {{ticket.reference}} ({{ticket.priority}}) {{ticket.subject}}. Customer: {{contact.name}}, {{contact.phone | no phone}}, area {{contact.area | not given}}.',
    'Tiket baru untuk Anda: {{ticket.reference}} ({{ticket.priority}}) {{ticket.subject}}. Pelanggan: {{contact.name}}, {{contact.phone | tanpa nomor}}, area {{contact.area | tidak diisi}}.',
  ),
  ...whatsapp(
    'ticket_in_progress',
    'Hi {{contact.name}}, we are working on your ticket {{ticket.reference}} ({{ticket.subject}}). We will let you know when it is done.',
    'Halo {{contact.name}}, tiket Anda {{ticket.reference}} ({{ticket.subject}}) sedang kami kerjakan. Kami akan mengabari Anda setelah selesai.',
  ),
  ...whatsapp(
    'ticket_waiting_on_customer',
    'Hi {{contact.name}}, we need a reply from you to go on with ticket {{ticket.reference}}. Just answer this message.',
    'Halo {{contact.name}}, kami menunggu balasan Anda untuk melanjutkan tiket {{ticket.reference}}. Cukup balas pesan ini.',
  ),
  ...whatsapp(
    'satisfaction_survey',
    'Hi {{contact.name}}, your ticket {{ticket.reference}} is resolved. How did we do? Reply with a number from 1 (poor) to 5 (excellent).',
    'Halo {{contact.name}}, tiket Anda {{ticket.reference}} sudah selesai. Bagaimana layanan kami? Balas dengan angka 1 (buruk) sampai 5 (sangat baik).',
  ),
  ...whatsapp(
    'registration_confirmation',
    'Welcome {{contact.name}}! Your registration with {{tenant.name}} is confirmed.',
    'Selamat datang {{contact.name}}! Pendaftaran Anda di {{tenant.name}} sudah kami terima.',
  ),
  ...whatsapp(
    'service_welcome',
    'Hi {{contact.name}}, your service with {{tenant.name}} is active. Reply to this message any time you need help.',
    'Halo {{contact.name}}, layanan Anda di {{tenant.name}} sudah aktif. Balas pesan ini kapan saja jika butuh bantuan.',
  ),
  ...whatsapp(
    'payment_reminder',
    'Hi {{contact.name}}, a reminder that invoice {{record.externalId}} of {{record.currency | }} {{record.amount | }} is due on {{record.dueDate}}.',
    'Halo {{contact.name}}, mengingatkan tagihan {{record.externalId}} sebesar {{record.currency | }} {{record.amount | }} jatuh tempo pada {{record.dueDate}}.',
  ),
  ...whatsapp(
    'payment_receipt',
    'Thank you {{contact.name}}, we received your payment for {{record.externalId}} ({{record.currency | }} {{record.amount | }}).',
    'Terima kasih {{contact.name}}, pembayaran Anda untuk {{record.externalId}} ({{record.currency | }} {{record.amount | }}) sudah kami terima.',
  ),
  ...whatsapp(
    'booking_confirmation',
    'Hi {{contact.name}}, your booking {{record.externalId}} is confirmed for {{record.scheduledDate}} at {{record.scheduledTime}}.',
    'Halo {{contact.name}}, pemesanan Anda {{record.externalId}} terkonfirmasi untuk {{record.scheduledDate}} pukul {{record.scheduledTime}}.',
  ),
  ...whatsapp(
    'booking_reminder',
    'Hi {{contact.name}}, a reminder of your appointment {{record.externalId}} on {{record.scheduledDate}} at {{record.scheduledTime}}.',
    'Halo {{contact.name}}, mengingatkan jadwal Anda {{record.externalId}} pada {{record.scheduledDate}} pukul {{record.scheduledTime}}.',
  ),
  ...whatsapp(
    'quote_followup',
    'Hi {{contact.name}}, did you have a chance to look at quote {{record.externalId}}? Reply here with any question.',
    'Halo {{contact.name}}, apakah Anda sudah sempat melihat penawaran {{record.externalId}}? Balas pesan ini jika ada pertanyaan.',
  ),
  ...whatsapp(
    'quote_expiring',
    'Hi {{contact.name}}, quote {{record.externalId}} expires on {{record.expiresDate}}. Reply here to accept it or ask for changes.',
    'Halo {{contact.name}}, penawaran {{record.externalId}} berlaku sampai {{record.expiresDate}}. Balas pesan ini untuk menyetujui atau meminta perubahan.',
  ),
  ...whatsapp(
    'birthday_greeting',
    'Happy birthday, {{contact.name}}! Best wishes from all of us at {{tenant.name}}.',
    'Selamat ulang tahun, {{contact.name}}! Salam hangat dari kami di {{tenant.name}}.',
  ),
  ...whatsapp(
    'anniversary_greeting',
    'Happy anniversary, {{contact.name}}! Thank you for being with {{tenant.name}}.',
    'Selamat hari jadi, {{contact.name}}! Terima kasih telah bersama {{tenant.name}}.',
  ),
];

const toContact = (template: string, notificationType: string) => ({
  type: 'send_message',
  channels: [Channel.WHATSAPP, Channel.SMS],
  template,
  recipients: [{ type: 'contact' }],
  notificationType,
});

const onEvent = (eventTypes: string[], conditions: Record<string, unknown> | null, action: Record<string, unknown>) => ({
  triggerType: RuleTriggerType.EVENT,
  eventTypes,
  conditions,
  actions: [action],
});

const onDate = (
  field: string,
  kinds: string[] | undefined,
  offsetsDays: number[],
  conditions: Record<string, unknown> | null,
  action: Record<string, unknown>,
) => ({
  triggerType: RuleTriggerType.RELATIVE_DATE,
  dateTrigger: { field, ...(kinds ? { kinds } : {}), offsetsDays, atLocalTime: '09:00', timezone: 'recipient' },
  conditions,
  actions: [action],
});

const statusBecomes = (status: string) => ({ path: 'ticket.status', op: 'eq', value: status });
const stillOpen = (closed: string[]) => ({ not: { path: 'record.status', op: 'in', value: closed } });

export const PACK_RULES: PackRule[] = [
  {
    key: 'ticket_assigned',
    rule: {
      name: 'Ticket assigned: tell the assignee',
      description: 'The technician or agent gets the ticket reference, customer, area and priority on WhatsApp.',
      ...onEvent(['ticket.assigned'], null, {
        type: 'send_message',
        channels: [Channel.WHATSAPP, Channel.SMS],
        template: 'ticket_assigned',
        recipients: [{ type: 'assignee' }],
        notificationType: 'ticket_assigned',
      }),
    },
  },
  {
    key: 'whatsapp_reply',
    rule: {
      name: 'Agent reply on a WhatsApp conversation: send it on WhatsApp',
      description: 'A public staff reply on a ticket the customer opened on WhatsApp goes to them on WhatsApp.',
      ...onEvent(
        ['ticket.message_added'],
        {
          all: [
            { path: 'event.payload.authorKind', op: 'eq', value: 'staff' },
            { path: 'event.payload.internal', op: 'eq', value: false },
            { path: 'event.payload.viaChannel', op: 'eq', value: 'whatsapp' },
          ],
        },
        {
          type: 'send_message',
          channels: [Channel.WHATSAPP],
          text: '{{event.payload.body}}',
          recipients: [{ type: 'contact' }],
          notificationType: 'ticket_reply',
        },
      ),
    },
  },
  {
    key: 'ticket_in_progress',
    rule: {
      name: 'Ticket in progress: tell the customer',
      ...onEvent(['ticket.status_changed'], statusBecomes('in_progress'), toContact('ticket_in_progress', 'ticket_status')),
    },
  },
  {
    key: 'ticket_waiting_on_customer',
    rule: {
      name: 'Ticket waiting on the customer: ask for a reply',
      ...onEvent(
        ['ticket.status_changed'],
        statusBecomes('waiting_on_customer'),
        toContact('ticket_waiting_on_customer', 'ticket_status'),
      ),
    },
  },
  {
    key: 'satisfaction_survey',
    rule: {
      name: 'Ticket resolved: satisfaction survey',
      maxExecutionsPerSubject: 1,
      ...onEvent(['ticket.status_changed'], statusBecomes('resolved'), toContact('satisfaction_survey', 'satisfaction_survey')),
    },
  },
  {
    key: 'registration_confirmation',
    rule: {
      name: 'Contact registered: confirmation',
      ...onEvent(['contact.registered'], null, toContact('registration_confirmation', 'registration')),
    },
  },
  {
    key: 'service_welcome',
    rule: {
      name: 'Service activated: welcome',
      ...onEvent(['service.activated'], null, toContact('service_welcome', 'welcome')),
    },
  },
  {
    key: 'payment_reminder',
    rule: {
      name: 'Invoice due in 7, 3 and 1 days: payment reminder',
      ...onDate(
        'record.dueAt',
        ['invoice'],
        [-7, -3, -1],
        stillOpen(['paid', 'void', 'cancelled']),
        toContact('payment_reminder', 'payment_reminder'),
      ),
    },
  },
  {
    key: 'payment_receipt',
    rule: {
      name: 'Payment received: receipt',
      ...onEvent(['payment.received'], { path: 'record.id', op: 'exists' }, toContact('payment_receipt', 'payment_receipt')),
    },
  },
  {
    key: 'booking_confirmation',
    rule: {
      name: 'Booking or installation scheduled: confirmation',
      ...onEvent(
        ['booking.created', 'booking.scheduled', 'installation.scheduled'],
        { path: 'record.scheduledAt', op: 'exists' },
        toContact('booking_confirmation', 'booking_confirmation'),
      ),
    },
  },
  {
    key: 'booking_reminder',
    rule: {
      name: 'Booking or installation in 30, 7 and 1 days: reminder',
      ...onDate(
        'record.scheduledAt',
        ['booking', 'installation'],
        [-30, -7, -1],
        stillOpen(['cancelled', 'completed']),
        toContact('booking_reminder', 'booking_reminder'),
      ),
    },
  },
  {
    key: 'quote_followup',
    rule: {
      name: 'Quote sent 3, 7 and 14 days ago: follow-up',
      ...onDate(
        'record.sentAt',
        ['quote'],
        [3, 7, 14],
        stillOpen(['accepted', 'paid', 'rejected', 'expired']),
        toContact('quote_followup', 'quote_followup'),
      ),
    },
  },
  {
    key: 'quote_expiring',
    rule: {
      name: 'Quote expiring in 3 days: reminder',
      ...onDate(
        'record.expiresAt',
        ['quote'],
        [-3],
        stillOpen(['accepted', 'paid', 'rejected', 'expired']),
        toContact('quote_expiring', 'quote_expiring'),
      ),
    },
  },
  {
    key: 'daily_summary',
    rule: {
      name: 'Daily summary at 18:00: managers and supervisors',
      triggerType: RuleTriggerType.SCHEDULE,
      cron: '0 18 * * *',
      actions: [
        {
          type: 'send_report',
          report: 'daily_summary',
          period: 'today',
          channels: [Channel.WHATSAPP, Channel.EMAIL],
          recipients: [
            { type: 'role', role: 'manager' },
            { type: 'role', role: 'supervisor' },
          ],
        },
      ],
    },
  },
  {
    key: 'technician_performance',
    rule: {
      name: 'Weekly technician performance, Monday 08:00',
      triggerType: RuleTriggerType.SCHEDULE,
      cron: '0 8 * * 1',
      actions: [
        {
          type: 'send_report',
          report: 'technician_performance',
          period: 'last_week',
          channels: [Channel.WHATSAPP, Channel.EMAIL],
          recipients: [{ type: 'each_technician' }],
        },
      ],
    },
  },
  {
    key: 'birthday_greeting',
    rule: {
      name: 'Birthday greeting',
      ...onDate('contact.birthday', undefined, [0], null, toContact('birthday_greeting', 'greeting')),
    },
  },
  {
    key: 'anniversary_greeting',
    rule: {
      name: 'Anniversary greeting',
      ...onDate('contact.anniversary', undefined, [0], null, toContact('anniversary_greeting', 'greeting')),
    },
  },
];
