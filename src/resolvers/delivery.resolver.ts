import { filter, pipe } from '@graphql-yoga/subscription';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { isRetryable } from '../channels/types';
import { Channel } from '../entities/channel';
import { ChannelProvider } from '../entities/channel-provider.entity';
import { Contact } from '../entities/contact.entity';
import { DeliveryEvent } from '../entities/delivery-event.entity';
import { Delivery } from '../entities/delivery.entity';
import { MessageTemplate } from '../entities/message-template.entity';
import { MetaTemplate } from '../entities/meta-template.entity';
import { MetaTemplateSync, SubmitMetaTemplateInput } from '../schema/meta-template.types';
import { Tenant } from '../entities/tenant.entity';
import { Role, STAFF_ROLES } from '../entities/user.entity';
import { PageArgs, pageInfo, splitPage } from '../schema/connection';
import type { AuthedContext, Context } from '../schema/context';
import {
  CircuitState,
  DeliveriesArgs,
  DeliveryConnection,
  DeliveryFilter,
  DeliverySettingsInput,
  DeliverySettingsView,
  DeliveryStats,
  DeliveryStatusFilter,
  EmergencyAlert,
  ProviderInput,
  ProviderTestResult,
  SendFailureKind,
  SendMessageInput,
  TemplateInput,
} from '../schema/delivery.types';
import { DomainError, ErrorCode, assertPeriod, badInput, forbidden } from '../services/platform/errors';
import type { DeliveryFilter as DeliveryQuery } from '../services/delivery/delivery.service';
import type { DeliverySettings } from '../services/delivery/messaging.service';
import { isUuid } from '../services/platform/ids';
import { type Principal, TICKET_WORKERS, requireStaff } from '../services/directory/principal';

const OPERATORS = [Role.ADMIN, Role.MANAGER, Role.SUPERVISOR];
/** Who reads deliveries: the staff who work tickets. */
const READERS = TICKET_WORKERS;

/** Cross-tenant reads are for platform super-admins only; everyone else asking gets FORBIDDEN. */
function allTenants(principal: Principal, asked: boolean): boolean {
  if (asked && !(principal.kind === 'staff' && principal.platformAdmin))
    throw forbidden('Only platform super-admins can read across tenants');
  return asked;
}

function settingsView(settings: DeliverySettings): DeliverySettingsView {
  return {
    testMode: settings.testMode,
    testRecipients: Object.entries(settings.testRecipients).map(([channel, address]) => ({
      channel: channel as Channel,
      address: address ?? '',
    })),
    emergencyWhatsAppGroups: settings.emergencyWhatsAppGroups,
  };
}

/**
 * A page of the deliveries that match, newest first, as the caller may see them: the
 * connection behind every list of deliveries on another object (an escalation, an alert,
 * a rule execution, a completion request).
 */
export async function deliveryConnection(
  { principal, services }: AuthedContext,
  filter: DeliveryQuery,
  args: PageArgs,
): Promise<DeliveryConnection> {
  const page = await services.deliveries.list(principal, filter, splitPage(args)[0]);
  return { edges: page.edges, totalCount: page.totalCount, pageInfo: pageInfo(page) };
}

@Resolver(() => EmergencyAlert)
export class EmergencyAlertResolver {
  @FieldResolver(() => DeliveryConnection, {
    description: 'What it queued, one delivery per recipient and channel, newest first.',
  })
  deliveries(@Root() alert: EmergencyAlert, @Args() args: PageArgs, @Ctx() context: AuthedContext): Promise<DeliveryConnection> {
    return deliveryConnection(context, { ids: alert.deliveryIds }, args);
  }
}

@Resolver(() => Delivery)
export class DeliveryResolver {
  @Authorized(...READERS)
  @Query(() => DeliveryConnection, { description: 'Outbound messages, newest first.' })
  async deliveries(@Args() args: DeliveriesArgs, @Ctx() { principal, services }: AuthedContext): Promise<DeliveryConnection> {
    const page = await services.deliveries.list(
      principal,
      args.filter ?? {},
      splitPage(args)[0],
      allTenants(principal, args.allTenants),
    );
    return { edges: page.edges, totalCount: page.totalCount, pageInfo: pageInfo(page) };
  }

  @Authorized(...READERS)
  @Query(() => Delivery, {
    nullable: true,
    description:
      'One delivery, with its history in `events`. Null, with a NOT_FOUND error, when there is none: the rest of the answer stays.',
  })
  delivery(
    @Arg('id', () => ID, { description: 'Delivery id.' }) id: string,
    @Arg('allTenants', { defaultValue: false, description: 'Look across tenants (platform super-admins only).' })
    crossTenant: boolean,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Delivery> {
    return services.deliveries.get(principal, id, allTenants(principal, crossTenant));
  }

  @Authorized(...READERS, Role.TECHNICIAN)
  @Query(() => DeliveryStats, {
    description:
      "Totals by status, channel, provider and notification type, with success, failover and failure rates. A technician's are their own: what they sent and what went out for their completion requests.",
  })
  deliveryStats(
    @Arg('from', () => Date, { description: 'Start (inclusive).' }) from: Date,
    @Arg('to', () => Date, { description: 'End (exclusive).' }) to: Date,
    @Arg('allTenants', { defaultValue: false, description: 'All tenants (platform super-admins only).' }) crossTenant: boolean,
    @Arg('tenantId', () => ID, {
      nullable: true,
      description: 'With allTenants: one business only. Otherwise figures are always your own.',
    })
    tenantId: string | null,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<DeliveryStats> {
    assertPeriod(from, to);
    if (tenantId != null && !isUuid(tenantId)) throw badInput('tenantId must be a tenant id', 'tenantId');
    const scope = allTenants(principal, crossTenant) ? (tenantId ?? null) : principal.tenantId;
    const own = principal.kind === 'staff' && principal.role === Role.TECHNICIAN ? principal.userId : null;
    return services.deliveries.stats(scope, from, to, own);
  }

  @FieldResolver(() => Tenant, {
    nullable: true,
    description: 'The business it belongs to: your own, or any for a platform super-admin reading across tenants.',
  })
  tenant(@Root() delivery: Delivery, @Ctx() { loaders }: AuthedContext): Promise<Tenant | undefined> {
    return loaders.tenant.load(delivery.tenantId);
  }

  @FieldResolver(() => [DeliveryEvent], {
    description: 'Every step, oldest first: queued, failover, sent, delivered, read, retries, dead letter.',
  })
  events(@Root() delivery: Delivery, @Ctx() { loaders }: AuthedContext): Promise<DeliveryEvent[]> {
    return loaders.deliveryEvents.load(delivery.id);
  }

  @Authorized(...STAFF_ROLES)
  @Mutation(() => Delivery, { description: 'Queues a message to a contact, a user or a raw address, from a template or text.' })
  sendMessage(
    @Arg('input', () => SendMessageInput, { description: 'The message.' }) input: SendMessageInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Delivery> {
    return services.messaging.sendMessage(requireStaff(principal), input);
  }

  @Authorized(...OPERATORS)
  @Mutation(() => EmergencyAlert, { description: "Alerts every active staff member (and the tenant's WhatsApp groups) at once." })
  broadcastEmergencyAlert(
    @Arg('message', { description: 'What is happening (1-1000 characters).' }) message: string,
    @Arg('channels', () => [Channel], { defaultValue: [Channel.WHATSAPP], description: 'Channels to alert on.' })
    channels: Channel[],
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<EmergencyAlert> {
    if (!message.trim() || message.length > 1000) throw badInput('message must be 1-1000 characters', 'message');
    if (channels.includes(Channel.WEBHOOK)) throw badInput('Emergency alerts go to people: whatsapp, sms or email', 'channels');
    return services.messaging.broadcastEmergencyAlert(requireStaff(principal), message.trim(), [...new Set(channels)]);
  }

  @Authorized(...OPERATORS)
  @Mutation(() => Delivery, { description: 'Resends a dead, failed or cancelled delivery as a new delivery linked to it.' })
  retryDelivery(
    @Arg('id', () => ID, { description: 'Delivery id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Delivery> {
    return services.deliveries.retry(principal, id);
  }

  @Authorized(...OPERATORS)
  @Mutation(() => Int, {
    description: 'Resends every dead delivery (or failed, when the filter says so) that matches; returns how many.',
  })
  retryDeadDeliveries(
    @Arg('filter', () => DeliveryFilter, { nullable: true, description: 'Which ones.' }) filter: DeliveryFilter | null,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<number> {
    return services.deliveries.retryDead(principal, filter ?? {});
  }

  @Authorized(...OPERATORS)
  @Mutation(() => Int, {
    description: 'Cancels every dead delivery (or failed, when the filter says so) that matches; returns how many.',
  })
  discardDeadDeliveries(
    @Arg('filter', () => DeliveryFilter, { nullable: true, description: 'Which ones.' }) filter: DeliveryFilter | null,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<number> {
    return services.deliveries.discardDead(principal, filter ?? {});
  }

  @Subscription(() => Delivery, {
    description:
      'Delivery status changes, live: of a ticket, campaign, contact or recipient; without a filter, all of the tenant (admins only).',
    subscribe: ({ args, context }: { args: Record<string, unknown>; context: Context }) =>
      subscribeToDeliveries(context, (args.filter ?? {}) as DeliveryStatusFilter),
  })
  deliveryStatusChanged(
    @Root() delivery: Delivery,
    @Arg('filter', () => DeliveryStatusFilter, { nullable: true, description: 'Which deliveries.' })
    _filter: DeliveryStatusFilter | null,
  ): Delivery {
    return delivery;
  }
}

function subscribeToDeliveries(context: Context, wanted: DeliveryStatusFilter): AsyncIterable<Delivery> {
  if (!context.principal) throw new DomainError(ErrorCode.Unauthenticated, 'Sign in first');
  const staff = requireStaff(context.principal);
  const narrowed = Boolean(wanted.ticketId || wanted.campaignId || wanted.recipient || wanted.contactId);
  if (!narrowed && staff.role !== Role.ADMIN)
    throw forbidden('Only admins may follow every delivery of the tenant; filter by ticket, campaign, contact or recipient');
  if (!READERS.includes(staff.role)) throw forbidden('Your role does not allow following deliveries');
  return pipe(
    context.services.live.subscribe('deliveryStatusChanged', staff.tenantId),
    filter(
      (delivery: Delivery) =>
        (!wanted.ticketId || delivery.ticketId === wanted.ticketId) &&
        (!wanted.campaignId || delivery.campaignId === wanted.campaignId) &&
        (!wanted.contactId || delivery.contactId === wanted.contactId) &&
        (!wanted.recipient || delivery.recipient === wanted.recipient || delivery.originalRecipient === wanted.recipient),
    ),
  );
}

@Resolver(() => ChannelProvider)
export class ChannelProviderResolver {
  @Authorized(Role.ADMIN)
  @Query(() => [ChannelProvider], { description: 'Provider accounts of the tenant, in failover order per channel.' })
  channelProviders(
    @Arg('channel', () => Channel, { nullable: true, description: 'Only this channel.' }) channel: Channel | null,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<ChannelProvider[]> {
    return services.providers.list(principal, channel);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ChannelProvider, { description: 'Adds a provider account.' })
  createChannelProvider(
    @Arg('input', () => ProviderInput, { description: 'The provider.' }) input: ProviderInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<ChannelProvider> {
    return services.providers.create(principal, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ChannelProvider, { description: 'Changes a provider account; credentials given replace the old ones whole.' })
  updateChannelProvider(
    @Arg('id', () => ID, { description: 'Provider id.' }) id: string,
    @Arg('input', () => ProviderInput, { description: 'The new values.' }) input: ProviderInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<ChannelProvider> {
    return services.providers.update(principal, id, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, { description: 'Removes a provider account; its past deliveries keep their history.' })
  deleteChannelProvider(
    @Arg('id', () => ID, { description: 'Provider id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<boolean> {
    return services.providers.remove(principal, id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ProviderTestResult, {
    description: 'Sends one test message straight through this provider and reports its answer.',
  })
  async testChannelProvider(
    @Arg('id', () => ID, { description: 'Provider id.' }) id: string,
    @Arg('to', { description: 'Address to send the test to.' }) to: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<ProviderTestResult> {
    const outcome = await services.messaging.testProvider(principal, id, to, 'Test message from Notify Desk');
    return outcome.ok
      ? { ok: true, providerMessageId: outcome.providerMessageId, code: null, message: null, retryable: null, failureKind: null }
      : {
          ok: false,
          providerMessageId: null,
          code: outcome.code,
          message: outcome.message,
          retryable: isRetryable(outcome),
          failureKind: outcome.kind as SendFailureKind,
        };
  }

  @FieldResolver(() => Boolean, { description: 'Whether credentials are stored (they are never shown).' })
  hasCredentials(@Root() provider: ChannelProvider): boolean {
    return provider.credentials !== '';
  }

  @FieldResolver(() => CircuitState, { description: 'Circuit breaker state.' })
  circuitState(@Root() provider: ChannelProvider, @Ctx() { services }: AuthedContext): CircuitState {
    if (!provider.circuitOpenUntil) return CircuitState.CLOSED;
    return provider.circuitOpenUntil > services.clock.now() ? CircuitState.OPEN : CircuitState.HALF_OPEN;
  }
}

@Resolver(() => MessageTemplate)
export class MessagingResolver {
  @Authorized(...STAFF_ROLES)
  @Query(() => [MessageTemplate], { description: 'Message templates of the tenant.' })
  messageTemplates(
    @Arg('channel', () => Channel, { nullable: true, description: 'Only this channel.' }) channel: Channel | null,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<MessageTemplate[]> {
    return services.messaging.templates(principal, channel);
  }

  @Authorized(Role.ADMIN, Role.MANAGER)
  @Mutation(() => MessageTemplate, { description: 'Adds a template, or changes one when id is given.' })
  saveMessageTemplate(
    @Arg('input', () => TemplateInput, { description: 'The template.' }) input: TemplateInput,
    @Arg('id', () => ID, { nullable: true, description: 'Template to change.' }) id: string | null,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<MessageTemplate> {
    return services.messaging.saveTemplate(principal, input, id ?? undefined);
  }

  @Authorized(Role.ADMIN, Role.MANAGER)
  @Mutation(() => Boolean, { description: 'Deletes a template.' })
  deleteMessageTemplate(
    @Arg('id', () => ID, { description: 'Template id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<boolean> {
    return services.messaging.deleteTemplate(principal, id);
  }

  @Authorized(Role.ADMIN)
  @Query(() => DeliverySettingsView, { description: 'Test mode, test recipients and emergency groups.' })
  async deliverySettings(@Ctx() { principal, services }: AuthedContext): Promise<DeliverySettingsView> {
    return settingsView(await services.messaging.settings(principal));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => DeliverySettingsView, { description: 'Changes test mode, test recipients or emergency groups.' })
  async updateDeliverySettings(
    @Arg('input', () => DeliverySettingsInput, { description: 'The changes.' }) input: DeliverySettingsInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<DeliverySettingsView> {
    const testRecipients = input.testRecipients
      ? Object.fromEntries(input.testRecipients.map((r) => [r.channel, r.address ?? null]))
      : null;
    return settingsView(
      await services.messaging.updateSettings(principal, {
        testMode: input.testMode,
        testRecipients,
        emergencyWhatsAppGroups: input.emergencyWhatsAppGroups,
      }),
    );
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => Contact, { description: "Records a contact's opt-out (or opt-in again) for a channel." })
  setContactOptOut(
    @Arg('contactId', () => ID, { description: 'Contact id.' }) contactId: string,
    @Arg('channel', () => Channel, { description: 'Channel.' }) channel: Channel,
    @Arg('optedOut', { description: 'True: never send on this channel.' }) optedOut: boolean,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Contact> {
    return services.messaging.setOptOut(principal, contactId, channel, optedOut);
  }
}

@Resolver(() => MetaTemplate)
export class MetaTemplateResolver {
  @Authorized(Role.ADMIN, Role.MANAGER)
  @Query(() => [MetaTemplate], {
    description: 'The WhatsApp Business Accounts’ message templates as Meta last reported them (syncMetaTemplates reads them).',
  })
  metaTemplates(
    @Arg('providerId', () => ID, { nullable: true, description: 'Only this Meta provider’s account.' }) providerId: string | null,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<MetaTemplate[]> {
    if (providerId != null && !isUuid(providerId)) throw badInput('must be a provider id', 'providerId');
    return services.metaTemplates.list(principal, providerId);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => MetaTemplateSync, {
    description:
      'Reads every message template of the Meta provider’s WhatsApp Business Account (settings.businessAccountId) and stores name, language, category, status and components; admins are told of any that became paused, rejected or disabled. Meta’s refusal answers PROVIDER_REFUSED with its code.',
  })
  syncMetaTemplates(
    @Arg('providerId', () => ID, { description: 'A Meta WhatsApp provider.' }) providerId: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<MetaTemplateSync> {
    if (!isUuid(providerId)) throw badInput('must be a provider id', 'providerId');
    return services.metaTemplates.sync(principal, providerId);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => MetaTemplate, {
    description:
      'Submits a WhatsApp message template to Meta for review (placeholders become {{1}}, {{2}}, ... with examples) and maps the template to it; it is used once Meta approves it.',
  })
  submitMetaTemplate(
    @Arg('input', () => SubmitMetaTemplateInput, { description: 'What to submit.' }) input: SubmitMetaTemplateInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<MetaTemplate> {
    return services.metaTemplates.submit(principal, input);
  }
}
