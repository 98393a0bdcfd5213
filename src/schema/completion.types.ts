import { ArrayMaxSize, IsOptional } from 'class-validator';
import { ArgsType, Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { CompletionRequest, CompletionStatus } from '../entities/completion-request.entity';
import { PageArgs, PageInfo } from './connection';

@ArgsType()
export class CompletionRequestsArgs extends PageArgs {
  @Field(() => [CompletionStatus], { nullable: true, description: 'Only these states.' })
  @IsOptional()
  @ArrayMaxSize(6)
  statuses?: CompletionStatus[] | null;

  @Field(() => ID, { nullable: true, description: 'Only this technician’s.' })
  technicianId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only this customer’s.' })
  contactId?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only pending requests past their deadline.' })
  overdue?: boolean | null;
}

@ObjectType({ description: 'A completion request in a list, with its cursor.' })
export class CompletionRequestEdge {
  @Field(() => CompletionRequest, { description: 'The request.' })
  node!: CompletionRequest;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of completion requests, newest first.' })
export class CompletionRequestConnection {
  @Field(() => [CompletionRequestEdge], { description: 'Requests of this page.' })
  edges!: CompletionRequestEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many match in all.' })
  totalCount!: number;
}

@ObjectType({ description: 'One technician’s completion requests over a period.' })
export class TechnicianCompletionStats {
  @Field(() => ID, { description: 'The technician.' })
  technicianId!: string;

  @Field({ description: 'Their name.' })
  name!: string;

  @Field(() => Int, { description: 'Requests made.' })
  requested!: number;

  @Field(() => Int, { description: 'Confirmed by the customer.' })
  confirmed!: number;

  @Field(() => Int, { description: 'Disputed by the customer.' })
  disputed!: number;
}

@ObjectType({ description: 'Completion requests made over a period, by outcome.' })
export class CompletionStats {
  @Field(() => Int, { description: 'Requests made.' })
  requested!: number;

  @Field(() => Int, { description: 'Confirmed by the customer.' })
  confirmed!: number;

  @Field(() => Int, { description: 'Disputed.' })
  disputed!: number;

  @Field(() => Int, { description: 'Auto-completed.' })
  autoCompleted!: number;

  @Field(() => Int, { description: 'Closed as unreachable.' })
  unreachable!: number;

  @Field(() => Int, { description: 'Cancelled.' })
  cancelled!: number;

  @Field(() => Int, { description: 'Still waiting.' })
  pending!: number;

  @Field(() => Float, { nullable: true, description: 'Confirmed out of answered (confirmed + disputed), in percent.' })
  confirmationRatePercent!: number | null;

  @Field(() => Float, { nullable: true, description: 'Mean hours from the request to the confirmation.' })
  meanHoursToConfirm!: number | null;

  @Field(() => [TechnicianCompletionStats], { description: 'Per technician.' })
  perTechnician!: TechnicianCompletionStats[];
}
