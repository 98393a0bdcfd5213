import { Repeater } from '@graphql-yoga/subscription';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Campaign } from '../entities/campaign.entity';
import { Channel } from '../entities/channel';
import { Delivery } from '../entities/delivery.entity';
import { Segment } from '../entities/segment.entity';
import { Role } from '../entities/user.entity';
import {
  AudienceEstimate,
  AudienceInput,
  CampaignConnection,
  CampaignInput,
  CampaignRecipientConnection,
  CampaignRecipientsArgs,
  CampaignDayFigures,
  CampaignRunFigures,
  CampaignStats,
  CampaignsArgs,
  SegmentConnection,
  SegmentInput,
} from '../schema/campaign.types';
import { PageArgs, pageInfo, splitPage } from '../schema/connection';
import type { AuthedContext, Context } from '../schema/context';
import {
  type CampaignDayFigures as DayFigures,
  type CampaignRunFigures as RunFigures,
  type CampaignStats as Stats,
  MAX_DAY_FIGURES,
  MAX_RUN_FIGURES,
} from '../services/campaigns/campaign.service';
import { requireStaff } from '../services/directory/principal';
import { DomainError, ErrorCode, forbidden } from '../services/platform/errors';

/** Admins and managers run campaigns and segments; supervisors follow them. */
const WRITERS = [Role.ADMIN, Role.MANAGER];
const READERS = [Role.ADMIN, Role.MANAGER, Role.SUPERVISOR];

@Resolver(() => Segment)
export class SegmentResolver {
  @Authorized(...READERS)
  @Query(() => SegmentConnection, { description: 'Saved audience filters, newest first.' })
  async segments(@Args() args: PageArgs, @Ctx() { principal, services }: AuthedContext): Promise<SegmentConnection> {
    const page = await services.audiences.list(requireStaff(principal), splitPage(args)[0]);
    return { ...page, pageInfo: pageInfo(page) };
  }

  @Authorized(...READERS)
  @Query(() => Segment, {
    nullable: true,
    description: 'One segment. Null, with a NOT_FOUND error, when there is none: the rest of the answer stays.',
  })
  segment(@Arg('id', () => ID, { description: 'Segment id.' }) id: string, @Ctx() { principal, services }: AuthedContext) {
    return services.audiences.get(requireStaff(principal), id);
  }

  @Authorized(...WRITERS)
  @Mutation(() => Segment, { description: 'Saves an audience filter; an unsound filter is refused naming the place.' })
  createSegment(
    @Arg('input', () => SegmentInput, { description: 'The segment.' }) input: SegmentInput,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.audiences.create(requireStaff(principal), input);
  }

  @Authorized(...WRITERS)
  @Mutation(() => Segment, { description: 'Replaces a segment; campaigns using it see the change at their next run.' })
  updateSegment(
    @Arg('id', () => ID, { description: 'Segment id.' }) id: string,
    @Arg('input', () => SegmentInput, { description: 'The segment.' }) input: SegmentInput,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.audiences.update(requireStaff(principal), id, input);
  }

  @Authorized(...WRITERS)
  @Mutation(() => Boolean, { description: 'Deletes a segment no unfinished campaign uses (CONFLICT otherwise).' })
  deleteSegment(@Arg('id', () => ID, { description: 'Segment id.' }) id: string, @Ctx() { principal, services }: AuthedContext) {
    return services.audiences.delete(requireStaff(principal), id);
  }

  @Authorized(...READERS)
  @Query(() => AudienceEstimate, {
    description: 'How many contacts an audience reaches now, and a sample; counted by one SQL query.',
  })
  estimateAudience(
    @Arg('audience', () => AudienceInput, { description: 'A segment, a filter, contacts or groups.' }) audience: AudienceInput,
    @Arg('sampleSize', () => Int, { defaultValue: 10, description: 'Contacts to show (0-50).' }) sampleSize: number,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.audiences.estimate(requireStaff(principal), audience, sampleSize);
  }
}

@Resolver(() => Campaign)
export class CampaignResolver {
  @Authorized(...READERS)
  @Query(() => CampaignConnection, { description: 'Campaigns, newest first.' })
  async campaigns(@Args() args: CampaignsArgs, @Ctx() { principal, services }: AuthedContext): Promise<CampaignConnection> {
    const [request, filter] = splitPage(args);
    const page = await services.campaigns.list(requireStaff(principal), filter, request);
    return { ...page, pageInfo: pageInfo(page) };
  }

  @Authorized(...READERS)
  @Query(() => Campaign, {
    nullable: true,
    description: 'One campaign. Null, with a NOT_FOUND error, when there is none: the rest of the answer stays.',
  })
  campaign(@Arg('id', () => ID, { description: 'Campaign id.' }) id: string, @Ctx() { principal, services }: AuthedContext) {
    return services.campaigns.get(requireStaff(principal), id);
  }

  @Authorized(...READERS)
  @Query(() => CampaignStats, {
    nullable: true,
    description:
      'A campaign’s figures: targeted, skipped, queued, sent … converted. Null, with a NOT_FOUND error, when there is none: the rest of the answer stays.',
  })
  campaignStats(@Arg('id', () => ID, { description: 'Campaign id.' }) id: string, @Ctx() { principal, services }: AuthedContext) {
    return services.campaigns.stats(requireStaff(principal), id);
  }

  @Authorized(...READERS)
  @Query(() => CampaignRecipientConnection, {
    nullable: true,
    description:
      'Who a campaign selected and what became of each message. Null, with a NOT_FOUND error, when there is none: the rest of the answer stays.',
  })
  async campaignRecipients(
    @Args() args: CampaignRecipientsArgs,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<CampaignRecipientConnection> {
    const [request, { campaignId, ...filter }] = splitPage(args);
    const page = await services.campaigns.recipients(requireStaff(principal), campaignId, filter, request);
    return { ...page, pageInfo: pageInfo(page) };
  }

  @Authorized(...WRITERS)
  @Mutation(() => Campaign, { description: 'Creates a DRAFT campaign.' })
  createCampaign(
    @Arg('input', () => CampaignInput, { description: 'The campaign.' }) input: CampaignInput,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.campaigns.create(requireStaff(principal), input);
  }

  @Authorized(...WRITERS)
  @Mutation(() => Campaign, { description: 'Replaces a DRAFT or SCHEDULED campaign (INVALID_TRANSITION otherwise).' })
  updateCampaign(
    @Arg('id', () => ID, { description: 'Campaign id.' }) id: string,
    @Arg('input', () => CampaignInput, { description: 'The campaign.' }) input: CampaignInput,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.campaigns.update(requireStaff(principal), id, input);
  }

  @Authorized(...WRITERS)
  @Mutation(() => Campaign, { description: 'DRAFT → SCHEDULED: goes out at sendAt (or its cron).' })
  scheduleCampaign(
    @Arg('id', () => ID, { description: 'Campaign id.' }) id: string,
    @Arg('sendAt', () => Date, { nullable: true, description: 'When (one-off); the campaign’s own sendAt otherwise.' })
    sendAt: Date | null,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.campaigns.schedule(requireStaff(principal), id, sendAt);
  }

  @Authorized(...WRITERS)
  @Mutation(() => Campaign, { description: 'Starts sending now (a recurring campaign runs once more and keeps its schedule).' })
  sendCampaignNow(
    @Arg('id', () => ID, { description: 'Campaign id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.campaigns.sendNow(requireStaff(principal), id);
  }

  @Authorized(...WRITERS)
  @Mutation(() => Campaign, { description: 'SCHEDULED or RUNNING → PAUSED: nothing more of it goes out until resumed.' })
  pauseCampaign(@Arg('id', () => ID, { description: 'Campaign id.' }) id: string, @Ctx() { principal, services }: AuthedContext) {
    return services.campaigns.pause(requireStaff(principal), id);
  }

  @Authorized(...WRITERS)
  @Mutation(() => Campaign, { description: 'PAUSED → where it was; queued messages go out again at its throttle.' })
  resumeCampaign(
    @Arg('id', () => ID, { description: 'Campaign id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.campaigns.resume(requireStaff(principal), id);
  }

  @Authorized(...WRITERS)
  @Mutation(() => ID, {
    description:
      'Deletes a DRAFT or CANCELLED campaign with its runs and recipients; answers its id. Messages it sent stay in the delivery log.',
  })
  deleteCampaign(
    @Arg('id', () => ID, { description: 'Campaign id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.campaigns.delete(requireStaff(principal), id);
  }

  @Authorized(...WRITERS)
  @Mutation(() => Campaign, { description: 'Cancels what has not gone out (any state before COMPLETED).' })
  cancelCampaign(
    @Arg('id', () => ID, { description: 'Campaign id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.campaigns.cancel(requireStaff(principal), id);
  }

  @Authorized(...WRITERS)
  @Mutation(() => Campaign, { description: 'A DRAFT copy of a campaign.' })
  duplicateCampaign(
    @Arg('id', () => ID, { description: 'Campaign id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.campaigns.duplicate(requireStaff(principal), id);
  }

  @Authorized(...WRITERS)
  @Mutation(() => Delivery, { description: 'Sends one message rendered for a chosen contact to a given address.' })
  testCampaign(
    @Arg('id', () => ID, { description: 'Campaign id.' }) id: string,
    @Arg('contactId', () => ID, { description: 'Whose data fills the message.' }) contactId: string,
    @Arg('to', { description: 'Where to send it: phone or e-mail.' }) to: string,
    @Arg('channel', () => Channel, { nullable: true, description: 'One of the campaign’s channels; its first by default.' })
    channel: Channel | null,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.campaigns.test(requireStaff(principal), id, contactId, to, channel);
  }

  @Subscription(() => CampaignStats, {
    description: 'A campaign’s figures now, then again as they move (at most twice a second). Admins, managers, supervisors.',
    subscribe: ({ args, context }: { args: Record<string, unknown>; context: Context }) => progressOf(context, args.id as string),
  })
  campaignProgress(@Root() stats: Stats, @Arg('id', () => ID, { description: 'Campaign id.' }) _id: string): Stats {
    return stats;
  }
}

@Resolver(() => CampaignStats)
export class CampaignStatsResolver {
  @FieldResolver(() => [CampaignRunFigures], {
    description: `Each run's figures, oldest first (the latest ${MAX_RUN_FIGURES} runs).`,
  })
  perRun(@Root() stats: Stats, @Ctx() { principal, services }: AuthedContext): Promise<RunFigures[]> {
    return services.campaigns.runFigures(requireStaff(principal), stats.campaignId);
  }

  @FieldResolver(() => [CampaignDayFigures], {
    description: `Each day's figures, oldest first (the latest ${MAX_DAY_FIGURES} days with messages).`,
  })
  perDay(@Root() stats: Stats, @Ctx() { principal, services }: AuthedContext): Promise<DayFigures[]> {
    return services.campaigns.dayFigures(requireStaff(principal), stats.campaignId);
  }
}

/** Fresh figures whenever the campaign or one of its deliveries moved, coalesced to one read per 500 ms. */
async function progressOf(context: Context, id: string): Promise<AsyncIterable<Stats>> {
  if (!context.principal) throw new DomainError(ErrorCode.Unauthenticated, 'Sign in first');
  const staff = requireStaff(context.principal);
  if (!READERS.includes(staff.role as Role)) throw forbidden();
  const { services } = context;
  const campaign = await services.campaigns.get(staff, id);
  return new Repeater<Stats>(async (push, stop) => {
    let dirty = true;
    let closed = false;
    const changes = services.live.subscribe('campaignProgress', campaign.id)[Symbol.asyncIterator]();
    const deliveries = services.live.subscribe('deliveryStatusChanged', campaign.tenantId)[Symbol.asyncIterator]();
    void (async () => {
      for (let next = await changes.next(); !next.done && !closed; next = await changes.next()) dirty = true;
    })();
    void (async () => {
      for (let next = await deliveries.next(); !next.done && !closed; next = await deliveries.next()) {
        if ((next.value as Delivery).campaignId === campaign.id) dirty = true;
      }
    })();
    const timer = setInterval(async () => {
      if (!dirty || closed) return;
      dirty = false;
      try {
        const fresh = await services.campaigns.get(staff, campaign.id);
        await push(await services.campaigns.statsOf(fresh));
      } catch (error) {
        stop(error);
      }
    }, 500);
    const first = await services.campaigns.statsOf(campaign);
    dirty = false;
    await push(first);
    await stop;
    closed = true;
    clearInterval(timer);
    await changes.return?.();
    await deliveries.return?.();
  });
}
