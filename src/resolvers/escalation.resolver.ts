import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { BusinessRecord } from '../entities/business-record.entity';
import { Escalation } from '../entities/escalation.entity';
import { Ticket } from '../entities/ticket.entity';
import { Role, STAFF_ROLES, User } from '../entities/user.entity';
import { escalationsJob } from '../jobs/escalations.job';
import { slaMonitorJob } from '../jobs/sla-monitor.job';
import { pageInfo, splitPage } from '../schema/connection';
import type { AuthedContext } from '../schema/context';
import {
  EscalationConnection,
  EscalationPolicyInput,
  EscalationPolicyView,
  EscalationsArgs,
  EscalationStats,
  OverdueItemConnection,
  OverdueItemsArgs,
} from '../schema/escalation.types';
import { JobInfo } from '../schema/job.types';
import { SlaPolicyInput, SlaPolicyUpdate, SlaPolicyView } from '../schema/sla.types';
import { assertPeriod, notFound } from '../services/platform/errors';
import { TICKET_WORKERS, requireStaff } from '../services/directory/principal';
import { DeliveryConnection } from '../schema/delivery.types';
import { deliveryConnection } from './delivery.resolver';
import { PageArgs } from '../schema/connection';

/** Who watches SLAs and escalations. */
const OVERSEERS = [Role.ADMIN, Role.MANAGER, Role.SUPERVISOR];

@Resolver()
export class SlaResolver {
  @Authorized(...TICKET_WORKERS)
  @Query(() => [SlaPolicyView], { description: 'SLA targets of every priority, most urgent first.' })
  slaPolicies(@Ctx() { principal, services }: AuthedContext): Promise<SlaPolicyView[]> {
    return services.sla.policies(principal.tenantId);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SlaPolicyUpdate, {
    description: "Sets one priority's SLA targets and business hours; open tickets of that priority get new due times.",
  })
  updateSlaPolicy(
    @Arg('input', () => SlaPolicyInput, { description: 'The targets.' }) input: SlaPolicyInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<SlaPolicyUpdate> {
    return services.sla.updatePolicy(requireStaff(principal), {
      ...input,
      businessHours: input.businessHours ? { ...input.businessHours, holidays: input.businessHours.holidays ?? [] } : null,
    });
  }

  @Authorized(Role.ADMIN)
  @Query(() => JobInfo, { description: 'The sla-monitor job: schedule, last and next run, failures, paused.' })
  slaMonitorStatus(@Ctx() { principal, services }: AuthedContext): Promise<JobInfo> {
    return services.jobs.get(principal.tenantId, slaMonitorJob.name);
  }
}

@Resolver(() => Escalation)
export class EscalationResolver {
  @Authorized(...TICKET_WORKERS)
  @Query(() => [EscalationPolicyView], { description: 'Escalation policies; the built-in default (id null) until one is saved.' })
  escalationPolicies(@Ctx() { principal, services }: AuthedContext): Promise<EscalationPolicyView[]> {
    return services.escalations.policies(principal.tenantId);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => EscalationPolicyView, { description: 'Creates or replaces the escalation policy of one scope.' })
  updateEscalationPolicy(
    @Arg('input', () => EscalationPolicyInput, { description: 'The policy.' }) input: EscalationPolicyInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<EscalationPolicyView> {
    return services.escalations.updatePolicy(requireStaff(principal), input);
  }

  @Authorized(...OVERSEERS)
  @Query(() => EscalationConnection, { description: 'Escalations, newest first.' })
  async escalations(@Args() args: EscalationsArgs, @Ctx() { principal, services }: AuthedContext): Promise<EscalationConnection> {
    const page = await services.escalations.list(principal.tenantId, args.filter ?? {}, splitPage(args)[0]);
    return { edges: page.edges, totalCount: page.totalCount, pageInfo: pageInfo(page) };
  }

  @Authorized(...OVERSEERS)
  @Query(() => OverdueItemConnection, {
    description:
      'Overdue work of every kind (tickets; trainings, service jobs and other records with a policy), most overdue first.',
  })
  async overdueItems(
    @Args() args: OverdueItemsArgs,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<OverdueItemConnection> {
    const page = await services.escalations.overdue(principal.tenantId, args.filter ?? {}, splitPage(args)[0]);
    return { edges: page.edges, totalCount: page.totalCount, pageInfo: pageInfo(page) };
  }

  @Authorized(...OVERSEERS)
  @Query(() => EscalationStats, {
    description: 'Escalations raised in [from, to): per level, per recipient, time to acknowledge.',
  })
  escalationStats(
    @Arg('from', () => Date, { description: 'Start (inclusive).' }) from: Date,
    @Arg('to', () => Date, { description: 'End (exclusive).' }) to: Date,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<EscalationStats> {
    assertPeriod(from, to);
    return services.escalations.stats(principal.tenantId, from, to);
  }

  @Authorized(...STAFF_ROLES)
  @Mutation(() => Escalation, { description: 'Acknowledges an escalation (its recipient or an admin); again is harmless.' })
  acknowledgeEscalation(
    @Arg('id', () => ID, { description: 'Escalation id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Escalation> {
    return services.escalations.acknowledge(requireStaff(principal), id);
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => Escalation, { description: 'Escalates a ticket by hand to a user, who is told at once.' })
  escalateTicket(
    @Arg('ticketId', () => ID, { description: 'The ticket.' }) ticketId: string,
    @Arg('toUserId', () => ID, { description: 'Who to escalate to.' }) toUserId: string,
    @Arg('reason', { description: 'Why (1-1000 characters).' }) reason: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Escalation> {
    return services.escalations.escalateManually(requireStaff(principal), ticketId, toUserId, reason);
  }

  @Authorized(Role.ADMIN)
  @Query(() => JobInfo, { description: 'The escalations job: schedule, last and next run, failures, paused.' })
  escalationStatus(@Ctx() { principal, services }: AuthedContext): Promise<JobInfo> {
    return services.jobs.get(principal.tenantId, escalationsJob.name);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => JobInfo, { description: 'Queues an escalation run for this tenant now.' })
  runEscalationsNow(@Ctx() { principal, services }: AuthedContext): Promise<JobInfo> {
    return services.jobs.runNow(requireStaff(principal), escalationsJob.name);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => JobInfo, { description: 'Stops scheduled escalation runs for this tenant until resumed.' })
  pauseEscalations(@Ctx() { principal, services }: AuthedContext): Promise<JobInfo> {
    return services.jobs.pause(requireStaff(principal), escalationsJob.name);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => JobInfo, { description: 'Resumes scheduled escalation runs and resets the failure count.' })
  resumeEscalations(@Ctx() { principal, services }: AuthedContext): Promise<JobInfo> {
    return services.jobs.resume(requireStaff(principal), escalationsJob.name);
  }

  @FieldResolver(() => Ticket, {
    nullable: true,
    description: 'The overdue ticket (null when the escalation is about a record).',
  })
  async ticket(@Root() escalation: Escalation, @Ctx() { loaders }: AuthedContext): Promise<Ticket | null> {
    if (!escalation.ticketId) return null;
    const ticket = await loaders.ticket.load(escalation.ticketId);
    if (!ticket) throw notFound('Ticket', escalation.ticketId);
    return ticket;
  }

  @FieldResolver(() => BusinessRecord, {
    nullable: true,
    description: 'The overdue business record, e.g. a training (null when the escalation is about a ticket).',
  })
  async record(@Root() escalation: Escalation, @Ctx() { principal, services }: AuthedContext): Promise<BusinessRecord | null> {
    return escalation.recordId ? services.records.get(principal, escalation.recordId) : null;
  }

  @FieldResolver(() => User, { nullable: true, description: 'Who was told.' })
  async recipient(@Root() escalation: Escalation, @Ctx() { loaders }: AuthedContext): Promise<User | null> {
    return (await loaders.user.load(escalation.recipientId)) ?? null;
  }

  @FieldResolver(() => DeliveryConnection, { description: 'The messages that told the recipient, newest first.' })
  deliveries(@Root() escalation: Escalation, @Args() args: PageArgs, @Ctx() context: AuthedContext): Promise<DeliveryConnection> {
    return deliveryConnection(context, { ids: escalation.deliveryIds }, args);
  }
}
