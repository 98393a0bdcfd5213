import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { TicketCategory, TicketPriority } from './ticket-enums';

@ObjectType({ description: 'An organisation using the service; every other row belongs to exactly one tenant.' })
@Entity('tenant')
export class Tenant {
  @Field(() => ID, { description: 'Unique identifier.' })
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Field({ description: 'Short unique name used at sign-in, e.g. "demo".' })
  @Column({ type: 'varchar', length: 63, unique: true })
  slug!: string;

  @Field({ description: 'Display name.' })
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Field({ description: 'IANA time zone for schedules, business dates and reports, e.g. Asia/Jakarta.' })
  @Column({ type: 'varchar', length: 64, default: 'UTC' })
  timezone!: string;

  @Field({ description: 'Default language of messages, as a BCP 47 tag, e.g. id or en.' })
  @Column({ type: 'varchar', length: 35, default: 'en' })
  locale!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'ISO 3166 country whose local phone numbers are understood, e.g. ID for 0812...; null accepts only +country numbers.',
  })
  @Column({ type: 'varchar', length: 2, nullable: true })
  defaultCountry!: string | null;

  @Field(() => Int, { description: 'Days after which a resolved ticket without a customer reply closes itself; 0 never.' })
  @Column({ type: 'integer', default: 7 })
  ticketAutoCloseDays!: number;

  @Field(() => [TicketCategory], { description: 'Categories a customer may choose when opening a ticket.' })
  @Column({ type: 'text', array: true, default: '{account,booking,payment,technical,billing,complaint,other}' })
  customerCategories!: TicketCategory[];

  @Field(() => [TicketPriority], {
    description: 'Priorities a customer may choose when opening a ticket (staff alone set URGENT by default).',
  })
  @Column({ type: 'text', array: true, default: '{low,medium,high}' })
  customerPriorities!: TicketPriority[];

  /** Last ticket number handed out; incremented under a row lock so numbers never repeat. */
  @Column({ type: 'integer', default: 0 })
  ticketSequence!: number;

  @Field({ description: 'Test mode: every outbound message goes to the test recipient of its channel instead.' })
  @Column({ type: 'boolean', default: false })
  testMode!: boolean;

  /** Test recipients per channel (whatsapp, sms, email, webhook); exposed through the delivery settings API. */
  @Column({ type: 'jsonb', default: {} })
  testRecipients!: Partial<Record<string, string>>;

  /** WhatsApp group ids (e.g. 120363025246125486@g.us) that also receive emergency alerts. */
  @Column({ type: 'text', array: true, default: '{}' })
  emergencyWhatsAppGroups!: string[];

  @Field({
    description:
      'True: an opted-out contact gets no transactional or operational campaign either; false: only marketing is withheld.',
  })
  @Column({ type: 'boolean', default: false })
  optOutCoversAll!: boolean;

  @Field(() => [String], { description: 'Inbound words that opt a contact out of marketing on that channel, e.g. STOP.' })
  @Column({ type: 'text', array: true, default: '{STOP,BERHENTI,UNSUBSCRIBE}' })
  stopKeywords!: string[];

  @Field(() => [String], { description: 'Inbound words that opt a contact back in, e.g. START.' })
  @Column({ type: 'text', array: true, default: '{START,MULAI}' })
  startKeywords!: string[];

  /**
   * Bumped by a trigger whenever one of the tenant's automation rules is created, changed
   * (anything but its counters) or deleted, in the same transaction: workers cache the
   * rules and reload them when the number they read with the tenant has moved.
   */
  @Column({ type: 'bigint', default: 0 })
  rulesVersion!: string;

  @Field({ description: 'When the tenant was created.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
