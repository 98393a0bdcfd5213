import { filter, pipe } from '@graphql-yoga/subscription';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { BusinessRecord } from '../entities/business-record.entity';
import {
  CompletionContactAttempt,
  CompletionRequest,
  CompletionStatus,
  ContactAttemptChannel,
  ContactAttemptOutcome,
  Review,
} from '../entities/completion-request.entity';
import { Role, STAFF_ROLES } from '../entities/user.entity';
import { CompletionRequestConnection, CompletionRequestsArgs, CompletionStats } from '../schema/completion.types';
import { pageInfo, splitPage } from '../schema/connection';
import type { AuthedContext, Context } from '../schema/context';
import { TICKET_WORKERS, requireStaff } from '../services/directory/principal';
import { DomainError, ErrorCode, assertPeriod } from '../services/platform/errors';
import { CustomerNotification, DeliveryConnection } from '../schema/delivery.types';
import { Attachment } from '../entities/ticket-message.entity';
import type { CustomerNotice } from '../services/delivery/customer-notices';
import { deliveryConnection } from './delivery.resolver';
import { PageArgs } from '../schema/connection';

const REQUESTERS = [Role.TECHNICIAN, Role.ADMIN, Role.MANAGER, Role.SUPERVISOR];

@Resolver(() => CompletionRequest)
export class CompletionResolver {
  @Authorized(...REQUESTERS)
  @Mutation(() => CompletionRequest, {
    description:
      'Asks the customer of a finished service job to confirm it: a WhatsApp message with the summary, how to answer, and a single-use link.',
  })
  requestCompletion(
    @Arg('jobId', () => ID, { description: 'The job (a business record of kind service_job).' }) jobId: string,
    @Ctx() { principal, services }: AuthedContext,
    @Arg('note', () => String, { nullable: true, description: 'What was done.' }) note?: string,
    @Arg('photos', () => [String], { nullable: true, description: 'Photo URLs of the work (at most 10).' }) photos?: string[],
    @Arg('photoFileIds', () => [ID], {
      nullable: true,
      description: 'Photos of the work the technician uploaded (createUpload), at most 10; shown as photoFiles.',
    })
    photoFileIds?: string[],
    @Arg('deadlineHours', () => Int, { nullable: true, description: 'Hours the customer has to answer (default 48).' })
    deadlineHours?: number,
  ): Promise<CompletionRequest> {
    return services.completions.request(requireStaff(principal), { jobId, note, photos, photoFileIds, deadlineHours });
  }

  @Authorized(Role.CUSTOMER)
  @Mutation(() => CompletionRequest, { description: 'The customer confirms (true) or disputes (false) the job, once.' })
  respondToCompletion(
    @Arg('id', () => ID, { description: 'The request.' }) id: string,
    @Arg('confirmed', { description: 'True: the job is done.' }) confirmed: boolean,
    @Ctx() { principal, services }: AuthedContext,
    @Arg('comment', () => String, { nullable: true, description: 'Their words.' }) comment?: string,
  ): Promise<CompletionRequest> {
    return services.completions.respond(principal, id, confirmed, comment);
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => CompletionContactAttempt, { description: 'Support records an attempt to reach the customer.' })
  logContactAttempt(
    @Arg('id', () => ID, { description: 'The request.' }) id: string,
    @Arg('channel', () => ContactAttemptChannel, { description: 'How.' }) channel: ContactAttemptChannel,
    @Arg('outcome', () => ContactAttemptOutcome, { description: 'What came of it.' }) outcome: ContactAttemptOutcome,
    @Ctx() { principal, services }: AuthedContext,
    @Arg('note', () => String, { nullable: true, description: 'Notes.' }) note?: string,
  ): Promise<CompletionContactAttempt> {
    return services.completions.logContactAttempt(requireStaff(principal), id, { channel, outcome, note });
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => CompletionRequest, { description: 'Closes a waiting request as UNREACHABLE or CANCELLED.' })
  closeCompletionRequest(
    @Arg('id', () => ID, { description: 'The request.' }) id: string,
    @Arg('outcome', () => CompletionStatus, { description: 'UNREACHABLE or CANCELLED.' }) outcome: CompletionStatus,
    @Ctx() { principal, services }: AuthedContext,
    @Arg('note', () => String, { nullable: true, description: 'Why.' }) note?: string,
  ): Promise<CompletionRequest> {
    return services.completions.close(requireStaff(principal), id, outcome, note);
  }

  @Authorized(Role.CUSTOMER)
  @Mutation(() => Review, { description: 'The customer reviews a job whose completion was confirmed, once (1-5).' })
  leaveReview(
    @Arg('completionRequestId', () => ID, { description: 'The confirmed request.' }) id: string,
    @Arg('rating', () => Int, { description: '1 (poor) to 5 (excellent).' }) rating: number,
    @Ctx() { principal, services }: AuthedContext,
    @Arg('comment', () => String, { nullable: true, description: 'Their words.' }) comment?: string,
  ): Promise<Review> {
    return services.completions.leaveReview(principal, id, rating, comment);
  }

  @Authorized()
  @Query(() => CompletionRequestConnection, {
    description: 'Completion requests, newest first; technicians see theirs, customers their own.',
  })
  async completionRequests(
    @Args() args: CompletionRequestsArgs,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<CompletionRequestConnection> {
    const [request, filter] = splitPage(args);
    const page = await services.completions.list(principal, filter, request);
    return { ...page, pageInfo: pageInfo(page) };
  }

  @Authorized()
  @Query(() => CompletionRequest, {
    nullable: true,
    description: 'One completion request. Null, with a NOT_FOUND error, when there is none: the rest of the answer stays.',
  })
  completionRequest(
    @Arg('id', () => ID, { description: 'The request.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.completions.get(principal, id);
  }

  @Authorized(Role.ADMIN, Role.MANAGER, Role.SUPERVISOR)
  @Query(() => CompletionStats, {
    description: 'Requests made in [from, to): outcomes, confirmation rate, time to confirm, per technician.',
  })
  completionStats(
    @Arg('from', () => Date, { description: 'Start (inclusive).' }) from: Date,
    @Arg('to', () => Date, { description: 'End (exclusive).' }) to: Date,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<CompletionStats> {
    assertPeriod(from, to);
    return services.completions.stats(requireStaff(principal), from, to);
  }

  @Subscription(() => CompletionRequest, {
    description:
      'Completion requests as they change (requested, answered, escalated, completed or closed), live: staff of the tenant (technicians their own), a customer their own; one request with id.',
    subscribe: ({ args, context }: { args: Record<string, unknown>; context: Context }) =>
      subscribeToCompletions(context, (args.id as string | null | undefined) ?? null),
  })
  completionRequestChanged(
    @Root() request: CompletionRequest,
    @Arg('id', () => ID, { nullable: true, description: 'Only this request.' }) _id: string | null,
  ): CompletionRequest {
    return request;
  }

  @Authorized(...STAFF_ROLES)
  @FieldResolver(() => String, {
    nullable: true,
    description: 'Support’s note when they closed it as unreachable or cancelled (staff only).',
  })
  closingNote(@Root() request: CompletionRequest): string | null {
    return request.closingNote;
  }

  @Authorized(...STAFF_ROLES)
  @FieldResolver(() => [CompletionContactAttempt], { description: 'Support’s attempts to reach the customer (staff only).' })
  attempts(@Root() request: CompletionRequest, @Ctx() { services }: AuthedContext): Promise<CompletionContactAttempt[]> {
    return services.completions.attempts(request.id);
  }

  @Authorized(...STAFF_ROLES)
  @FieldResolver(() => DeliveryConnection, { description: 'The request and its reminders as sent, newest first (staff only).' })
  deliveries(
    @Root() request: CompletionRequest,
    @Args() args: PageArgs,
    @Ctx() context: AuthedContext,
  ): Promise<DeliveryConnection> {
    return deliveryConnection(context, { completionRequestId: request.id }, args);
  }

  @FieldResolver(() => [CustomerNotification], {
    description:
      'The request and its reminders as the customer may see them: what was sent and how far it got, in words, newest first. A customer sees only their own.',
  })
  notifications(@Root() request: CompletionRequest, @Ctx() { loaders }: AuthedContext): Promise<CustomerNotice[]> {
    return loaders.completionNotices.load(request.id);
  }

  @FieldResolver(() => [Attachment], { description: 'Photos of the work uploaded with the request (photoFileIds).' })
  photoFiles(@Root() request: CompletionRequest, @Ctx() { loaders }: AuthedContext): Promise<Attachment[]> {
    return loaders.subjectFiles.load(request.id);
  }

  @FieldResolver(() => Review, { nullable: true, description: 'The customer’s review, once confirmed and reviewed.' })
  review(@Root() request: CompletionRequest, @Ctx() { services }: AuthedContext): Promise<Review | null> {
    return services.completions.review(request.id);
  }

  @FieldResolver(() => BusinessRecord, { nullable: true, description: 'The job.' })
  async job(@Root() request: CompletionRequest, @Ctx() { principal, services }: AuthedContext): Promise<BusinessRecord | null> {
    return services.records.get(principal, request.jobId).catch(() => null);
  }
}

function subscribeToCompletions(context: Context, id: string | null): AsyncIterable<CompletionRequest> {
  const principal = context.principal;
  if (!principal) throw new DomainError(ErrorCode.Unauthenticated, 'Sign in first');
  return pipe(
    context.services.live.subscribe('completionRequestChanged', principal.tenantId),
    filter((request: CompletionRequest) => {
      if (id && request.id !== id) return false;
      if (principal.kind === 'customer') return request.contactId === principal.contactId;
      return principal.role !== Role.TECHNICIAN || request.technicianId === principal.userId;
    }),
  );
}
