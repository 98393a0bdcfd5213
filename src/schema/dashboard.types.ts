import { Field, Float, Int, ObjectType } from 'type-graphql';
import { TicketStatus } from '../entities/ticket.entity';

@ObjectType({ description: 'How many tickets are in one status.' })
export class StatusCount {
  @Field(() => TicketStatus, { description: 'The status.' })
  status!: TicketStatus;

  @Field(() => Int, { description: 'Tickets in it.' })
  count!: number;
}

@ObjectType({ description: 'Support figures for a period, plus the queue as it is now.' })
export class SupportDashboard {
  @Field({ description: 'Start of the period (inclusive).' })
  from!: Date;

  @Field({ description: 'End of the period (exclusive).' })
  to!: Date;

  @Field(() => Int, { description: 'Tickets created in the period.' })
  total!: number;

  @Field(() => [StatusCount], { description: 'Tickets created in the period, by current status.' })
  byStatus!: StatusCount[];

  @Field(() => Int, { description: 'Unfinished tickets without an assignee, now.' })
  unassigned!: number;

  @Field(() => Int, { description: 'Unfinished urgent tickets, now.' })
  urgent!: number;

  @Field(() => Int, { description: 'Active tickets assigned to the caller, now.' })
  mine!: number;

  @Field(() => Float, { nullable: true, description: 'Average minutes to the first public staff reply.' })
  averageFirstResponseMinutes!: number | null;

  @Field(() => Float, { nullable: true, description: 'Average minutes from creation to resolution.' })
  averageResolutionMinutes!: number | null;

  @Field(() => Float, { nullable: true, description: 'Share of measured tickets that met their SLA targets, in percent.' })
  slaCompliancePercent!: number | null;

  @Field(() => Float, { nullable: true, description: 'Average satisfaction rating (1-5).' })
  averageRating!: number | null;

  @Field(() => Int, { description: 'How many tickets were rated.' })
  ratedCount!: number;
}
