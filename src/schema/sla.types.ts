import { IsInt, IsOptional, Max, Min, ValidateNested } from 'class-validator';
import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { TicketPriority } from '../entities/ticket.entity';

@ObjectType('BusinessWindow', { description: 'One working window of a weekday, in local time.' })
@InputType('BusinessWindowInput', { description: 'One working window of a weekday, in local time.' })
export class BusinessWindowType {
  @Field(() => Int, { description: 'ISO weekday: 1 Monday … 7 Sunday.' })
  day!: number;

  @Field({ description: 'Local start, "HH:MM".' })
  start!: string;

  @Field({ description: 'Local end, "HH:MM" after the start ("24:00" allowed).' })
  end!: string;
}

@ObjectType('BusinessHours', { description: 'A weekly working calendar; SLA clocks only run inside its windows.' })
@InputType('BusinessHoursInput', { description: 'A weekly working calendar; SLA clocks only run inside its windows.' })
export class BusinessHoursType {
  @Field({ description: 'IANA timezone of the windows and holidays, e.g. Asia/Jakarta.' })
  timezone!: string;

  @Field(() => [BusinessWindowType], { description: 'Working windows; several per day are allowed.' })
  @ValidateNested({ each: true })
  windows!: BusinessWindowType[];

  @Field(() => [String], { defaultValue: [], description: 'Local dates ("YYYY-MM-DD") on which the clock stops.' })
  holidays!: string[];
}

@ObjectType({ description: "SLA targets for one priority: the tenant's own, or the product default." })
export class SlaPolicyView {
  @Field(() => TicketPriority, { description: 'The priority the targets apply to.' })
  priority!: TicketPriority;

  @Field(() => Int, { description: 'Working minutes from opening to the first public reply.' })
  firstResponseMinutes!: number;

  @Field(() => Int, { description: 'Working minutes from opening to resolution.' })
  resolutionMinutes!: number;

  @Field(() => Int, { description: 'Minutes before a due time at which supervisors are warned.' })
  warningLeadMinutes!: number;

  @Field(() => BusinessHoursType, { nullable: true, description: 'Working calendar; null: the clock always runs.' })
  businessHours!: BusinessHoursType | null;

  @Field({ description: 'False while the priority uses the product default.' })
  customized!: boolean;

  @Field(() => Date, { nullable: true, description: 'When the tenant last changed it.' })
  updatedAt!: Date | null;
}

@InputType({ description: 'SLA targets for one priority.' })
export class SlaPolicyInput {
  @Field(() => TicketPriority, { description: 'The priority to configure.' })
  priority!: TicketPriority;

  @Field(() => Int, { description: 'Working minutes to the first public reply.' })
  @IsInt()
  @Min(1)
  firstResponseMinutes!: number;

  @Field(() => Int, { description: 'Working minutes to resolution.' })
  @IsInt()
  @Min(1)
  resolutionMinutes!: number;

  @Field(() => Int, { description: 'Minutes before a due time at which supervisors are warned.' })
  @IsInt()
  @Min(0)
  @Max(525600)
  warningLeadMinutes!: number;

  @Field(() => BusinessHoursType, { nullable: true, description: 'Working calendar; omit or null for round-the-clock.' })
  @IsOptional()
  @ValidateNested()
  businessHours?: BusinessHoursType | null;
}

@ObjectType({ description: 'A saved SLA policy and how many open tickets got new due times.' })
export class SlaPolicyUpdate {
  @Field(() => SlaPolicyView, { description: 'The policy now in force.' })
  policy!: SlaPolicyView;

  @Field(() => Int, { description: 'Unfinished tickets of that priority whose due times were re-computed.' })
  recomputedTickets!: number;
}
