import { Field, ID, Int, ObjectType, UseMiddleware, registerEnumType } from 'type-graphql';
import { STAFF_ONLY_NOTE, StaffOnly } from '../schema/staff-only';
import { Contact } from './contact.entity';
import { TenantOwned } from './tenant-owned';
import { Ticket } from './ticket.entity';
import { User } from './user.entity';
import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';

export enum MessageAuthorKind {
  STAFF = 'staff',
  CUSTOMER = 'customer',
}

registerEnumType(MessageAuthorKind, {
  name: 'MessageAuthorKind',
  description: 'Who wrote a ticket message.',
  valuesConfig: {
    STAFF: { description: 'A staff user of the tenant.' },
    CUSTOMER: { description: 'The ticket requester (a contact).' },
  },
});

@ObjectType({ description: 'A file attached to a ticket message or completion request.' })
export class Attachment {
  /** The stored file (uploaded, or received from the customer); null for a link to a file kept elsewhere. */
  @Field(() => ID, { nullable: true, description: 'The stored file; null for a file kept elsewhere (given by its URL).' })
  fileId?: string | null;

  /** Stored files get a signed link per reader (see AttachmentResolver); others keep their URL. */
  url!: string;

  @Field({ description: 'Original file name.' })
  filename!: string;

  @Field({ description: 'MIME type, e.g. image/png.' })
  contentType!: string;

  @Field(() => Int, { description: 'Size in bytes.' })
  size!: number;
}

@ObjectType({ description: 'One message in a ticket thread: a public reply or an internal staff note.' })
@Entity('ticket_message')
@Index('ticket_message_ticket_created_idx', ['ticketId', 'createdAt'])
@Index('ticket_message_tenant_external_key', ['tenantId', 'externalId'], { unique: true, where: '"externalId" IS NOT NULL' })
export class TicketMessage extends TenantOwned {
  @Field(() => ID, { description: 'Ticket the message belongs to.' })
  @Column({ type: 'uuid' })
  ticketId!: string;

  @ManyToOne(() => Ticket, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'ticketId' })
  ticket?: Ticket;

  @Field(() => MessageAuthorKind, { description: 'Whether staff or the customer wrote it.' })
  @Column({ type: 'enum', enum: MessageAuthorKind, enumName: 'message_author_kind' })
  authorKind!: MessageAuthorKind;

  @Field(() => ID, { nullable: true, description: 'Staff author, when staff wrote it.' + STAFF_ONLY_NOTE })
  @UseMiddleware(StaffOnly)
  @Column({ type: 'uuid', nullable: true })
  authorUserId!: string | null;

  @ManyToOne(() => User, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'authorUserId' })
  authorUser?: User | null;

  @Field(() => ID, { nullable: true, description: 'Contact author, when the customer wrote it.' })
  @Column({ type: 'uuid', nullable: true })
  authorContactId!: string | null;

  @ManyToOne(() => Contact, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'authorContactId' })
  authorContact?: Contact | null;

  /** Kept with the message so live fan-out needs no lookups. */
  @Field({ description: "Author's name at the time of writing." })
  @Column({ type: 'varchar', length: 200 })
  authorName!: string;

  @Field({ description: 'Text of the message.' })
  @Column({ type: 'text' })
  body!: string;

  @Field({ description: 'True for staff-only notes; customers never see these.' })
  @Column({ type: 'boolean', default: false })
  internal!: boolean;

  @Field(() => [Attachment], { description: 'Files attached to the message.' })
  @Column({ type: 'jsonb', default: [] })
  attachments!: Attachment[];

  /** The provider's id of an inbound message (a wamid), so a redelivered webhook adds nothing. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  externalId!: string | null;

  @Field({ description: 'When the message was written.' })
  @Column({ type: 'timestamptz' })
  createdAt!: Date;
}
