import { ArrayMaxSize, IsInt, IsOptional, IsUrl, IsUUID, Length, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Channel, DeliveryStatus } from '../entities/channel';
import { TicketMessage } from '../entities/ticket-message.entity';
import { ResolutionType, Ticket, TicketCategory, TicketPriority, TicketStatus } from '../entities/ticket.entity';
import { TicketChangeKind } from '../services/platform/live-events';
import { SortDirection, TicketOrderField } from '../services/tickets/ticket.service';
import { PageInfo, PageArgs } from './connection';

export const MAX_MESSAGE_LENGTH = 10_000;

registerEnumType(TicketOrderField, {
  name: 'TicketOrderField',
  description: 'What tickets can be sorted by.',
  valuesConfig: {
    CREATED_AT: { description: 'Creation time.' },
    UPDATED_AT: { description: 'Time of the last change.' },
    PRIORITY: { description: 'Priority, low to urgent.' },
    RESOLUTION_DUE_AT: { description: 'Resolution due time.' },
    NUMBER: { description: 'Ticket number.' },
  },
});

registerEnumType(SortDirection, {
  name: 'SortDirection',
  description: 'Sort direction.',
  valuesConfig: { ASC: { description: 'Smallest first.' }, DESC: { description: 'Largest first.' } },
});

registerEnumType(TicketChangeKind, {
  name: 'TicketChangeKind',
  description: 'What happened to a ticket.',
  valuesConfig: {
    CREATED: { description: 'The ticket was created.' },
    UPDATED: { description: 'Subject, description or category changed.' },
    ASSIGNED: { description: 'The assignee changed.' },
    STATUS_CHANGED: { description: 'The status changed.' },
    PRIORITY_CHANGED: { description: 'The priority (and so the due times) changed.' },
    RATED: { description: 'The requester rated the ticket.' },
  },
});

@InputType({ description: 'Fields of a new ticket.' })
export class CreateTicketInput {
  @Field({ description: 'Short summary (1-200 characters).' })
  @Length(1, 200)
  subject!: string;

  @Field(() => String, { nullable: true, description: 'Full description.' })
  @IsOptional()
  @MaxLength(MAX_MESSAGE_LENGTH)
  description?: string | null;

  @Field(() => TicketCategory, { defaultValue: TicketCategory.OTHER, description: 'What the ticket is about.' })
  category!: TicketCategory;

  @Field(() => TicketPriority, { defaultValue: TicketPriority.MEDIUM, description: 'How urgent it is; sets the SLA targets.' })
  priority!: TicketPriority;

  @Field(() => ID, { description: 'Contact who asked for help.' })
  @IsUUID('all', { message: 'must be a contact id' })
  requesterId!: string;

  @Field(() => ID, { nullable: true, description: 'Assign straight away to this user.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a user id' })
  assigneeId?: string | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'Files you uploaded (createUpload), at most 10, attached to the ticket itself (Ticket.attachments).',
  })
  @IsOptional()
  @ArrayMaxSize(10)
  @IsUUID('all', { each: true, message: 'must be file ids' })
  fileIds?: string[] | null;
}

@InputType({ description: 'Changes to a ticket; omitted fields stay as they are.' })
export class UpdateTicketInput {
  @Field(() => String, { nullable: true, description: 'New summary.' })
  @IsOptional()
  @Length(1, 200)
  subject?: string | null;

  @Field(() => String, { nullable: true, description: 'New description.' })
  @IsOptional()
  @MaxLength(MAX_MESSAGE_LENGTH)
  description?: string | null;

  @Field(() => TicketCategory, { nullable: true, description: 'New category.' })
  @IsOptional()
  category?: TicketCategory | null;
}

@InputType({ description: 'Metadata of an uploaded file.' })
export class AttachmentInput {
  @Field({ description: 'Where the file can be downloaded (http or https).' })
  @IsUrl({ protocols: ['http', 'https'], require_tld: false }, { message: 'must be an http(s) URL' })
  @MaxLength(2048)
  url!: string;

  @Field({ description: 'Original file name.' })
  @Length(1, 255)
  filename!: string;

  @Field({ description: 'MIME type.' })
  @Length(3, 255)
  contentType!: string;

  @Field(() => Int, { description: 'Size in bytes (at most 100 MB).' })
  @IsInt()
  @Min(0)
  @Max(100 * 1024 * 1024)
  size!: number;
}

@InputType({ description: 'A new message in a ticket thread.' })
export class AddTicketMessageInput {
  @Field(() => ID, { description: 'Ticket to write to.' })
  @IsUUID('all', { message: 'must be a ticket id' })
  ticketId!: string;

  @Field({ description: `Text (1-${MAX_MESSAGE_LENGTH} characters).` })
  @Length(1, MAX_MESSAGE_LENGTH)
  body!: string;

  @Field({ defaultValue: false, description: 'A staff-only note the customer never sees.' })
  internal!: boolean;

  @Field(() => [AttachmentInput], { nullable: true, description: 'Attached files (at most 10).' })
  @IsOptional()
  @ArrayMaxSize(10)
  @ValidateNested({ each: true })
  attachments?: AttachmentInput[] | null;

  @Field(() => [ID], {
    nullable: true,
    description:
      'Files the author uploaded (createUpload, then a PUT of the bytes), at most 10; each attaches to one message only. Another caller’s file answers NOT_FOUND.',
  })
  @IsOptional()
  @ArrayMaxSize(10)
  @IsUUID('all', { each: true, message: 'must be file ids' })
  fileIds?: string[] | null;

  @Field(() => String, {
    nullable: true,
    description:
      "A public reply on a WhatsApp conversation goes as this WhatsApp template (one mapped to an approved Meta template), rendered with the ticket's values; the body stays the thread's text. Needed when the customer's 24-hour window has closed (see Ticket.whatsappWindowOpen): free text is then refused with OUTSIDE_SERVICE_WINDOW unless a gateway carries it.",
  })
  @IsOptional()
  @Length(1, 100)
  whatsappTemplate?: string | null;
}

@InputType({ description: 'Which tickets to list.' })
export class TicketFilter {
  @Field(() => [TicketStatus], { nullable: true, description: 'Only these statuses.' })
  statuses?: TicketStatus[] | null;

  @Field(() => [TicketPriority], { nullable: true, description: 'Only these priorities.' })
  priorities?: TicketPriority[] | null;

  @Field(() => [TicketCategory], { nullable: true, description: 'Only these categories.' })
  categories?: TicketCategory[] | null;

  @Field(() => ID, { nullable: true, description: 'Only tickets assigned to this user.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a user id' })
  assigneeId?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only tickets without an assignee.' })
  unassigned?: boolean | null;

  @Field(() => ID, { nullable: true, description: 'Only tickets of this contact.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a contact id' })
  requesterId?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Words in the subject or description, or a ticket number such as T-000123.',
  })
  @IsOptional()
  @MaxLength(200)
  text?: string | null;

  @Field(() => Date, { nullable: true, description: 'Created at or after.' })
  createdFrom?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Created before.' })
  createdTo?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Resolved at or after.' })
  resolvedFrom?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Resolved before.' })
  resolvedTo?: Date | null;

  @Field(() => [String], { nullable: true, description: 'Any of these tags.' })
  @IsOptional()
  @ArrayMaxSize(20)
  tags?: string[] | null;

  @Field(() => String, { nullable: true, description: "The requester's service area." })
  @IsOptional()
  @MaxLength(100)
  area?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only tickets that missed an SLA target (true), or none (false).' })
  breached?: boolean | null;
}

@InputType({ description: 'How a ticket was resolved.' })
export class ResolveTicketInput {
  @Field({ description: 'What was done, in a sentence (1-500 characters).' })
  summary!: string;

  @Field(() => ResolutionType, { description: 'How it was resolved.' })
  type!: ResolutionType;

  @Field(() => String, { nullable: true, description: 'Staff notes (up to 5,000 characters).' })
  notes?: string | null;
}

@InputType({ description: 'One change for many tickets; what is given is applied to each.' })
export class BulkTicketChange {
  @Field(() => ID, { nullable: true, description: 'Assign to this user (least-loaded agent when null is given explicitly).' })
  assigneeId?: string | null;

  @Field(() => TicketStatus, { nullable: true, description: 'Move to this status.' })
  status?: TicketStatus | null;

  @Field(() => TicketPriority, { nullable: true, description: 'Set this priority.' })
  priority?: TicketPriority | null;

  @Field(() => String, { nullable: true, description: 'Add this tag.' })
  addTag?: string | null;
}

@ObjectType({ description: 'What became of one ticket of a bulk change.' })
export class BulkTicketResult {
  @Field(() => ID, { description: 'The ticket.' })
  ticketId!: string;

  @Field({ description: 'True when the whole change was applied; false when none of it was.' })
  ok!: boolean;

  @Field(() => String, { nullable: true, description: 'Why not, as an error code (NOT_FOUND, INVALID_TRANSITION...).' })
  errorCode!: string | null;

  @Field(() => String, { nullable: true, description: 'Why not, in words.' })
  error!: string | null;
}

@InputType({ description: 'Sort order of a ticket list.' })
export class TicketOrder {
  @Field(() => TicketOrderField, { defaultValue: TicketOrderField.CREATED_AT, description: 'Sort key.' })
  field!: TicketOrderField;

  @Field(() => SortDirection, { defaultValue: SortDirection.DESC, description: 'Direction.' })
  direction!: SortDirection;
}

@ArgsType()
export class TicketsArgs extends PageArgs {
  @Field(() => TicketFilter, { nullable: true, description: 'Which tickets; all visible ones when omitted.' })
  @IsOptional()
  @ValidateNested()
  filter?: TicketFilter | null;

  @Field(() => TicketOrder, { nullable: true, description: 'Sort order; newest first when omitted.' })
  orderBy?: TicketOrder | null;
}

@ObjectType({ description: 'A ticket in a list, with its cursor.' })
export class TicketEdge {
  @Field(() => Ticket, { description: 'The ticket.' })
  node!: Ticket;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of tickets.' })
export class TicketConnection {
  @Field(() => [TicketEdge], { description: 'Tickets of this page.' })
  edges!: TicketEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many tickets match the filter in all.' })
  totalCount!: number;
}

@ObjectType({ description: 'A live change to a ticket.' })
export class TicketChangedEvent {
  @Field(() => TicketChangeKind, { description: 'What happened.' })
  kind!: TicketChangeKind;

  @Field(() => Ticket, { description: 'The ticket after the change.' })
  ticket!: Ticket;

  @Field(() => TicketStatus, { nullable: true, description: 'Status before the change.' })
  previousStatus!: TicketStatus | null;

  @Field(() => ID, { nullable: true, description: 'Assignee before the change.' })
  previousAssigneeId!: string | null;
}

@InputType({ description: 'Which ticket changes to receive.' })
export class TicketChangedFilter {
  @Field(() => Boolean, { nullable: true, description: 'Only tickets assigned to me (now or before the change).' })
  assignedToMe?: boolean | null;

  @Field(() => [TicketStatus], { nullable: true, description: 'Only tickets in these statuses after the change.' })
  statuses?: TicketStatus[] | null;

  @Field(() => [TicketPriority], { nullable: true, description: 'Only tickets of these priorities.' })
  priorities?: TicketPriority[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Only tickets without an assignee.' })
  unassigned?: boolean | null;
}

@ObjectType({ description: 'The categories and priorities one may choose when opening a ticket.' })
export class TicketChoices {
  @Field(() => [TicketCategory], { description: 'Categories on offer.' })
  categories!: TicketCategory[];

  @Field(() => [TicketPriority], { description: 'Priorities on offer.' })
  priorities!: TicketPriority[];
}

@ObjectType({ description: 'What a customer gets back when writing to support.' })
export class SupportConversation {
  @Field(() => Ticket, { description: 'The ticket the message went to.' })
  ticket!: Ticket;

  @Field(() => TicketMessage, { description: 'The message that was added.' })
  message!: TicketMessage;
}

@ArgsType()
export class RateTicketArgs {
  @Field(() => ID, { description: 'Ticket to rate.' })
  @IsUUID('all', { message: 'must be a ticket id' })
  ticketId!: string;

  @Field(() => Int, { description: 'From 1 (poor) to 5 (excellent).' })
  @IsInt()
  @Min(1, { message: 'must be between 1 and 5' })
  @Max(5, { message: 'must be between 1 and 5' })
  rating!: number;

  @Field(() => String, { nullable: true, description: 'Optional comment (at most 2000 characters).' })
  @IsOptional()
  @MaxLength(2000)
  comment?: string | null;
}

@ObjectType({ description: 'How a thread message travelled to the customer outside the app, e.g. an agent’s reply on WhatsApp.' })
export class MessageDelivery {
  @Field(() => ID, { description: 'The delivery (staff can follow it with deliveryStatusChanged).' })
  id!: string;

  @Field(() => Channel, { description: 'Channel it went out on.' })
  channel!: Channel;

  @Field(() => DeliveryStatus, { description: 'Queued, sent, delivered, read or failed, as the provider reported it.' })
  status!: DeliveryStatus;

  @Field(() => Date, { nullable: true, description: 'When the provider accepted it.' })
  sentAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it reached the customer’s device.' })
  deliveredAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the customer read it.' })
  readAt!: Date | null;
}

@ObjectType({ description: 'A message of a thread, with its cursor.' })
export class TicketMessageEdge {
  @Field(() => TicketMessage, { description: 'The message.' })
  node!: TicketMessage;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of a thread, oldest message first.' })
export class TicketMessageConnection {
  @Field(() => [TicketMessageEdge], { description: 'Messages of this page.' })
  edges!: TicketMessageEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Messages in the thread the caller can see.' })
  totalCount!: number;
}
