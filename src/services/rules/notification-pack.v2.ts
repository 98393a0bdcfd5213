import { Channel } from '../../entities/channel';
import type { PackTemplate } from './notification-pack.v1';

/**
 * The built-in notification pack, version 2: SMS and e-mail variants (English and
 * Indonesian) of every template of version 1, so the pack's rules, which prefer WhatsApp
 * and fall back to SMS (and reports to e-mail), reach a contact who cannot take WhatsApp,
 * and a message that dies on WhatsApp goes again by SMS. Rules are unchanged.
 *
 * Frozen, as version 1: its migration reads this file.
 */
interface Variant {
  name: string;
  subject: { en: string; id: string };
  en: string;
  id: string;
}

const VARIANTS: Variant[] = [
  {
    name: 'ticket_assigned',
    subject: { en: 'New ticket {{ticket.reference}}', id: 'Tiket baru {{ticket.reference}}' },
    en: 'New ticket for you: {{ticket.reference}} ({{ticket.priority}}) {{ticket.subject}}. Customer: {{contact.name}}, {{contact.phone | no phone}}, area {{contact.area | not given}}.',
    id: 'Tiket baru untuk Anda: {{ticket.reference}} ({{ticket.priority}}) {{ticket.subject}}. Pelanggan: {{contact.name}}, {{contact.phone | tanpa nomor}}, area {{contact.area | tidak diisi}}.',
  },
  {
    name: 'ticket_in_progress',
    subject: { en: 'We are working on {{ticket.reference}}', id: 'Tiket {{ticket.reference}} sedang dikerjakan' },
    en: 'Hi {{contact.name}}, we are working on your ticket {{ticket.reference}} ({{ticket.subject}}). We will let you know when it is done.',
    id: 'Halo {{contact.name}}, tiket Anda {{ticket.reference}} ({{ticket.subject}}) sedang kami kerjakan. Kami akan mengabari Anda setelah selesai.',
  },
  {
    name: 'ticket_waiting_on_customer',
    subject: { en: 'Your reply is needed on {{ticket.reference}}', id: 'Kami menunggu balasan Anda: {{ticket.reference}}' },
    en: 'Hi {{contact.name}}, we need a reply from you to go on with ticket {{ticket.reference}}. Just answer this message.',
    id: 'Halo {{contact.name}}, kami menunggu balasan Anda untuk melanjutkan tiket {{ticket.reference}}. Cukup balas pesan ini.',
  },
  {
    name: 'satisfaction_survey',
    subject: { en: 'How did we do on {{ticket.reference}}?', id: 'Bagaimana layanan kami untuk {{ticket.reference}}?' },
    en: 'Hi {{contact.name}}, your ticket {{ticket.reference}} is resolved. How did we do? Reply with a number from 1 (poor) to 5 (excellent).',
    id: 'Halo {{contact.name}}, tiket Anda {{ticket.reference}} sudah selesai. Bagaimana layanan kami? Balas dengan angka 1 (buruk) sampai 5 (sangat baik).',
  },
  {
    name: 'registration_confirmation',
    subject: { en: 'Welcome to {{tenant.name}}', id: 'Selamat datang di {{tenant.name}}' },
    en: 'Welcome {{contact.name}}! Your registration with {{tenant.name}} is confirmed.',
    id: 'Selamat datang {{contact.name}}! Pendaftaran Anda di {{tenant.name}} sudah kami terima.',
  },
  {
    name: 'service_welcome',
    subject: { en: 'Your service with {{tenant.name}} is active', id: 'Layanan Anda di {{tenant.name}} sudah aktif' },
    en: 'Hi {{contact.name}}, your service with {{tenant.name}} is active. Reply to this message any time you need help.',
    id: 'Halo {{contact.name}}, layanan Anda di {{tenant.name}} sudah aktif. Balas pesan ini kapan saja jika butuh bantuan.',
  },
  {
    name: 'payment_reminder',
    subject: {
      en: 'Invoice {{record.externalId}} is due on {{record.dueDate}}',
      id: 'Tagihan {{record.externalId}} jatuh tempo {{record.dueDate}}',
    },
    en: 'Hi {{contact.name}}, a reminder that invoice {{record.externalId}} of {{record.currency | }} {{record.amount | }} is due on {{record.dueDate}}.',
    id: 'Halo {{contact.name}}, mengingatkan tagihan {{record.externalId}} sebesar {{record.currency | }} {{record.amount | }} jatuh tempo pada {{record.dueDate}}.',
  },
  {
    name: 'payment_receipt',
    subject: { en: 'Payment received for {{record.externalId}}', id: 'Pembayaran {{record.externalId}} sudah kami terima' },
    en: 'Thank you {{contact.name}}, we received your payment for {{record.externalId}} ({{record.currency | }} {{record.amount | }}).',
    id: 'Terima kasih {{contact.name}}, pembayaran Anda untuk {{record.externalId}} ({{record.currency | }} {{record.amount | }}) sudah kami terima.',
  },
  {
    name: 'booking_confirmation',
    subject: { en: 'Booking {{record.externalId}} confirmed', id: 'Pemesanan {{record.externalId}} terkonfirmasi' },
    en: 'Hi {{contact.name}}, your booking {{record.externalId}} is confirmed for {{record.scheduledDate}} at {{record.scheduledTime}}.',
    id: 'Halo {{contact.name}}, pemesanan Anda {{record.externalId}} terkonfirmasi untuk {{record.scheduledDate}} pukul {{record.scheduledTime}}.',
  },
  {
    name: 'booking_reminder',
    subject: {
      en: 'Reminder: {{record.externalId}} on {{record.scheduledDate}}',
      id: 'Pengingat: {{record.externalId}} pada {{record.scheduledDate}}',
    },
    en: 'Hi {{contact.name}}, a reminder of your appointment {{record.externalId}} on {{record.scheduledDate}} at {{record.scheduledTime}}.',
    id: 'Halo {{contact.name}}, mengingatkan jadwal Anda {{record.externalId}} pada {{record.scheduledDate}} pukul {{record.scheduledTime}}.',
  },
  {
    name: 'quote_followup',
    subject: { en: 'About quote {{record.externalId}}', id: 'Tentang penawaran {{record.externalId}}' },
    en: 'Hi {{contact.name}}, did you have a chance to look at quote {{record.externalId}}? Reply here with any question.',
    id: 'Halo {{contact.name}}, apakah Anda sudah sempat melihat penawaran {{record.externalId}}? Balas pesan ini jika ada pertanyaan.',
  },
  {
    name: 'quote_expiring',
    subject: {
      en: 'Quote {{record.externalId}} expires on {{record.expiresDate}}',
      id: 'Penawaran {{record.externalId}} berlaku sampai {{record.expiresDate}}',
    },
    en: 'Hi {{contact.name}}, quote {{record.externalId}} expires on {{record.expiresDate}}. Reply here to accept it or ask for changes.',
    id: 'Halo {{contact.name}}, penawaran {{record.externalId}} berlaku sampai {{record.expiresDate}}. Balas pesan ini untuk menyetujui atau meminta perubahan.',
  },
  {
    name: 'birthday_greeting',
    subject: { en: 'Happy birthday, {{contact.name}}!', id: 'Selamat ulang tahun, {{contact.name}}!' },
    en: 'Happy birthday, {{contact.name}}! Best wishes from all of us at {{tenant.name}}.',
    id: 'Selamat ulang tahun, {{contact.name}}! Salam hangat dari kami di {{tenant.name}}.',
  },
  {
    name: 'anniversary_greeting',
    subject: { en: 'Happy anniversary, {{contact.name}}!', id: 'Selamat hari jadi, {{contact.name}}!' },
    en: 'Happy anniversary, {{contact.name}}! Thank you for being with {{tenant.name}}.',
    id: 'Selamat hari jadi, {{contact.name}}! Terima kasih telah bersama {{tenant.name}}.',
  },
];

export const PACK_V2_TEMPLATES: PackTemplate[] = VARIANTS.flatMap(({ name, subject, en, id }) => [
  { channel: Channel.SMS, name: `${name}.en`, body: en },
  { channel: Channel.SMS, name: `${name}.id`, body: id },
  { channel: Channel.EMAIL, name: `${name}.en`, subject: subject.en, body: en },
  { channel: Channel.EMAIL, name: `${name}.id`, subject: subject.id, body: id },
]);
