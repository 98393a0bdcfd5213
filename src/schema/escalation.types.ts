import { IsInt, IsOptional, IsUUID, Length, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Channel } from '../entities/channel';
import { EscalationTargetKind } from '../entities/escalation-policy.entity';
import { Escalation, EscalationStatus } from '../entities/escalation.entity';
import { TicketCategory, TicketPriority } from '../entities/ticket.entity';
import { Role } from '../entities/user.entity';
import { PageInfo, PageArgs } from './connection';

registerEnumType(EscalationTargetKind, {
  name: 'EscalationTargetKind',
  description: 'Who a level reaches.',
  valuesConfig: {
    MANAGER_CHAIN: {
      description: "The assignee's manager (depth 1), that manager's manager (depth 2)…; the supervisors when the chain ends.",
    },
    ROLE: { description: 'Every active user with a role.' },
    USER: { description: 'One named user.' },
  },
});

@ObjectType('EscalationTarget', { description: 'Who a level reaches.' })
@InputType('EscalationTargetInput', { description: 'Who a level reaches.' })
export class EscalationTargetType {
  @Field(() => EscalationTargetKind, { description: 'Manager chain, role or user.' })
  kind!: EscalationTargetKind;

  @Field(() => Int, {
    nullable: true,
    description: "MANAGER_CHAIN: how many steps up from the ticket's assignee or the record's person (1-10).",
  })
  depth?: number | null;

  @Field(() => Role, { nullable: true, description: 'ROLE: the role.' })
  role?: Role | null;

  @Field(() => ID, { nullable: true, description: 'USER: the user.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a user id' })
  userId?: string | null;
}

@ObjectType({ description: 'One rung of an escalation ladder.' })
export class EscalationLevelView {
  @Field(() => Int, { description: 'Level number, from 1.' })
  level!: number;

  @Field(() => Int, { description: 'Minutes after the breach at which a ticket reaches this level.' })
  afterMinutes!: number;

  @Field(() => EscalationTargetType, { description: 'Who is told.' })
  target!: EscalationTargetType;

  @Field(() => [Channel], {
    description: 'Channels in order of preference: each recipient gets the first they can be reached on.',
  })
  channels!: Channel[];

  @Field(() => String, { nullable: true, description: 'Opening line with {{recipientName}}, {{count}} and {{level}}.' })
  intro!: string | null;
}

@InputType({ description: 'One rung of an escalation ladder: give afterMinutes or afterDays.' })
export class EscalationLevelInput {
  @Field(() => Int, { nullable: true, description: 'Minutes after the breach.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  afterMinutes?: number | null;

  @Field(() => Float, { nullable: true, description: 'Days overdue, for items measured in days.' })
  @IsOptional()
  @Min(0)
  @Max(3650)
  afterDays?: number | null;

  @Field(() => EscalationTargetType, { description: 'Who is told.' })
  @ValidateNested()
  target!: EscalationTargetType;

  @Field(() => [Channel], {
    defaultValue: [Channel.WHATSAPP, Channel.EMAIL],
    description: 'Channels in order of preference (WHATSAPP, SMS, EMAIL).',
  })
  channels!: Channel[];

  @Field(() => String, { nullable: true, description: 'Opening line with {{recipientName}}, {{count}} and {{level}}.' })
  @IsOptional()
  @MaxLength(500)
  intro?: string | null;
}

@ObjectType({ description: 'Who hears about overdue tickets, or overdue business records of one kind, and when.' })
export class EscalationPolicyView {
  @Field(() => ID, { nullable: true, description: 'Id; null for the built-in default.' })
  id!: string | null;

  @Field({ description: 'Name.' })
  name!: string;

  @Field(() => TicketCategory, { nullable: true, description: 'Only tickets of this category; null: any.' })
  category!: TicketCategory | null;

  @Field(() => TicketPriority, { nullable: true, description: 'Only tickets of this priority; null: any.' })
  priority!: TicketPriority | null;

  @Field(() => String, {
    nullable: true,
    description: 'Set: the policy escalates overdue business records of this kind (e.g. training), not tickets.',
  })
  recordKind!: string | null;

  @Field(() => [EscalationLevelView], { description: 'The ladder, first level first.' })
  levels!: EscalationLevelView[];

  @Field(() => Int, { description: 'Overdue this long, a ticket is listed as critical in the top-level summary.' })
  criticalAfterMinutes!: number;

  @Field({ description: 'Inactive policies are kept but not applied.' })
  active!: boolean;
}

@InputType({ description: 'An escalation policy for one scope (category and/or priority, or neither for the default).' })
export class EscalationPolicyInput {
  @Field({ description: 'Name (1-100 characters).' })
  @Length(1, 100)
  name!: string;

  @Field(() => TicketCategory, { nullable: true, description: 'Scope: only this category.' })
  category?: TicketCategory | null;

  @Field(() => TicketPriority, { nullable: true, description: 'Scope: only this priority.' })
  priority?: TicketPriority | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Scope: overdue business records of this kind (e.g. training, service_job) instead of tickets; a manager chain climbs from the record's staff subject, else its owner. Records of a kind without a policy are not escalated.",
  })
  @IsOptional()
  @MaxLength(50)
  recordKind?: string | null;

  @Field(() => [EscalationLevelInput], { description: 'The ladder (1-10 levels), each starting later than the one before.' })
  @ValidateNested({ each: true })
  levels!: EscalationLevelInput[];

  @Field(() => Int, { nullable: true, description: 'Minutes overdue from which a ticket is critical (default 1440).' })
  criticalAfterMinutes?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Whether the policy applies (default true).' })
  active?: boolean | null;
}

@InputType({ description: 'Which escalations.' })
export class EscalationFilter {
  @Field(() => Int, { nullable: true, description: 'Only this level.' })
  level?: number | null;

  @Field(() => EscalationStatus, { nullable: true, description: 'Only this status.' })
  status?: EscalationStatus | null;

  @Field(() => ID, { nullable: true, description: 'Only those sent to this user.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a user id' })
  recipientId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only those of this ticket.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a ticket id' })
  ticketId?: string | null;

  @Field(() => Date, { nullable: true, description: 'Raised at or after this time.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Raised before this time.' })
  to?: Date | null;
}

@ArgsType()
export class EscalationsArgs extends PageArgs {
  @Field(() => EscalationFilter, { nullable: true, description: 'Which escalations; all when omitted.' })
  @IsOptional()
  @ValidateNested()
  filter?: EscalationFilter | null;
}

@ObjectType({ description: 'An escalation and its cursor.' })
export class EscalationEdge {
  @Field(() => Escalation, { description: 'The escalation.' })
  node!: Escalation;

  @Field({ description: 'Cursor of this edge.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of escalations, newest first.' })
export class EscalationConnection {
  @Field(() => [EscalationEdge], { description: 'Escalations of this page.' })
  edges!: EscalationEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many match in all.' })
  totalCount!: number;
}

@InputType({ description: 'Which overdue work.' })
export class OverdueFilter {
  @Field(() => String, {
    nullable: true,
    description: '`ticket`, or a record kind such as training; every kind with an escalation policy when omitted.',
  })
  @IsOptional()
  @MaxLength(50)
  kind?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "Records whose person's store (or the record's) is this; leaves tickets out.",
  })
  @IsOptional()
  @MaxLength(200)
  store?: string | null;

  @Field(() => Int, { nullable: true, description: 'Only items at this escalation level (0: not escalated yet).' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10)
  level?: number | null;

  @Field(() => TicketCategory, { nullable: true, description: 'Only this category.' })
  category?: TicketCategory | null;

  @Field(() => TicketPriority, { nullable: true, description: 'Only this priority.' })
  priority?: TicketPriority | null;

  @Field(() => ID, { nullable: true, description: 'Only those assigned to this user.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a user id' })
  assigneeId?: string | null;

  @Field(() => Int, { nullable: true, description: 'Only those overdue at least this many minutes.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  minOverdueMinutes?: number | null;
}

@ObjectType({
  description: 'Overdue work: an unfinished ticket past a due time, or an uncompleted business record past its due date.',
})
export class OverdueItem {
  @Field({ description: '`ticket`, or the record kind (training, service_job...).' })
  kind!: string;

  @Field(() => ID, { nullable: true, description: 'Ticket id (tickets).' })
  ticketId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Business record id (records).' })
  recordId!: string | null;

  @Field({ description: "Ticket number as shown to people, or the record's external id." })
  reference!: string;

  @Field({ description: 'Ticket subject, or the record title.' })
  subject!: string;

  @Field(() => TicketCategory, { nullable: true, description: 'Category (tickets).' })
  category!: TicketCategory | null;

  @Field(() => TicketPriority, { nullable: true, description: 'Priority (tickets).' })
  priority!: TicketPriority | null;

  @Field(() => ID, { nullable: true, description: 'Assignee id (tickets).' })
  assigneeId!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: "Whose work it is: the ticket's assignee, the record's staff subject or owner.",
  })
  personId!: string | null;

  @Field(() => String, { nullable: true, description: 'Their name.' })
  personName!: string | null;

  @Field(() => String, { nullable: true, description: "Their store (a store attribute), else their manager's team." })
  group!: string | null;

  @Field({ description: 'The earliest due time it missed.' })
  dueAt!: Date;

  @Field(() => Int, { description: 'Minutes since that due time.' })
  overdueMinutes!: number;

  @Field(() => Int, { description: 'Highest escalation level reached (0: none).' })
  escalationLevel!: number;
}

@ObjectType({ description: 'Escalation figures of one level.' })
export class EscalationLevelStats {
  @Field(() => Int, { description: 'Level.' })
  level!: number;

  @Field(() => Int, { description: 'Escalations raised.' })
  count!: number;

  @Field(() => Int, { description: 'Of which acknowledged.' })
  acknowledged!: number;

  @Field(() => Float, { nullable: true, description: 'Mean seconds from raising to acknowledgement.' })
  meanSecondsToAcknowledge!: number | null;
}

@ObjectType({ description: 'Escalation figures of one recipient.' })
export class EscalationRecipientStats {
  @Field(() => ID, { description: 'Recipient id.' })
  recipientId!: string;

  @Field({ description: 'Recipient name.' })
  recipientName!: string;

  @Field(() => Int, { description: 'Escalations received.' })
  count!: number;

  @Field(() => Int, { description: 'Of which acknowledged.' })
  acknowledged!: number;

  @Field(() => Float, { nullable: true, description: 'Mean seconds to acknowledge.' })
  meanSecondsToAcknowledge!: number | null;
}

@ObjectType({ description: 'Escalations raised in a period.' })
export class EscalationStats {
  @Field(() => Int, { description: 'Escalations raised.' })
  total!: number;

  @Field(() => Int, { description: 'Of which acknowledged.' })
  acknowledged!: number;

  @Field(() => Int, { description: 'Of which closed by resolution.' })
  resolved!: number;

  @Field(() => Float, { nullable: true, description: 'Mean seconds to acknowledge.' })
  meanSecondsToAcknowledge!: number | null;

  @Field(() => [EscalationLevelStats], { description: 'Per level.' })
  perLevel!: EscalationLevelStats[];

  @Field(() => [EscalationRecipientStats], { description: 'Per recipient, most escalated first.' })
  perRecipient!: EscalationRecipientStats[];
}

@ArgsType()
export class OverdueItemsArgs extends PageArgs {
  @Field(() => OverdueFilter, { nullable: true, description: 'Which ones.' })
  @IsOptional()
  @ValidateNested()
  filter?: OverdueFilter | null;
}

@ObjectType({ description: 'Overdue work in a list, with its cursor.' })
export class OverdueItemEdge {
  @Field(() => OverdueItem, { description: 'The item.' })
  node!: OverdueItem;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of overdue work, most overdue first.' })
export class OverdueItemConnection {
  @Field(() => [OverdueItemEdge], { description: 'Items of this page.' })
  edges!: OverdueItemEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many match in all.' })
  totalCount!: number;
}
