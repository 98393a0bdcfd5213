import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, Extensions, ID, Info, Mutation, Query, Resolver } from 'type-graphql';
import { ApiKey, ApiScope } from '../entities/api-key.entity';
import { Role } from '../entities/user.entity';
import type { AuthedContext, Context } from '../schema/context';
import { CreatedApiKey, PublishEventInput, PublishResult } from '../schema/event.types';
import { requireStaff } from '../services/directory/principal';
import { MAX_EVENTS_PER_BATCH } from '../services/events/event-ingestion.service';
import { keyOrStaff } from '../schema/auth';
import { IDEMPOTENCY_KEY_ARGUMENT, oncePerKey } from '../schema/idempotency';

/** The tenant an event is published for: an API key with events:write, or a signed-in admin. */
const publishingTenant = (context: Context) => keyOrStaff(context, ApiScope.EVENTS_WRITE, [Role.ADMIN]).tenantId;

/** Publishes events once per idempotency key (argument or header); events without a key take the request's. */
function publish(
  context: Context,
  info: GraphQLResolveInfo,
  events: PublishEventInput[],
  idempotencyKey: string | null,
): Promise<PublishResult> {
  const tenantId = publishingTenant(context);
  const source = context.apiKey ? 'api' : 'admin';
  return oncePerKey(context, info, tenantId, idempotencyKey, events, (within, requestKey) =>
    context.services.ingestion.ingest(tenantId, events, source, { requestKey, within }),
  );
}

@Resolver()
export class IngestionResolver {
  @Extensions({ apiScope: ApiScope.EVENTS_WRITE })
  @Mutation(() => PublishResult, {
    description: 'Publishes one business event from another system (API key with events:write, or admin).',
  })
  publishEvent(
    @Arg('event', () => PublishEventInput, { description: 'The event.' }) event: PublishEventInput,
    @Ctx() context: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<PublishResult> {
    return publish(context, info, [{ ...event }], null);
  }

  @Extensions({ apiScope: ApiScope.EVENTS_WRITE })
  @Mutation(() => PublishResult, {
    description: `Publishes up to ${MAX_EVENTS_PER_BATCH} business events at once; a bad one refuses the batch, naming it.`,
  })
  publishEvents(
    @Arg('events', () => [PublishEventInput], { description: 'The events, in order.' }) events: PublishEventInput[],
    @Arg('idempotencyKey', () => String, { nullable: true, description: IDEMPOTENCY_KEY_ARGUMENT })
    idempotencyKey: string | null,
    @Ctx() context: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<PublishResult> {
    return publish(
      context,
      info,
      events.map((event) => ({ ...event })),
      idempotencyKey,
    );
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CreatedApiKey, {
    description: 'Creates an API key for a machine client; its secret is shown only now (admin).',
  })
  createApiKey(
    @Arg('name', { description: 'What uses it, e.g. "Billing system".' }) name: string,
    @Arg('scopes', () => [ApiScope], { description: 'What it may do.' }) scopes: ApiScope[],
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<CreatedApiKey> {
    return services.apiKeys.create(requireStaff(principal), name, scopes);
  }

  @Authorized(Role.ADMIN)
  @Query(() => [ApiKey], { description: 'The API keys of this tenant, newest first (admin).' })
  apiKeys(@Ctx() { principal, services }: AuthedContext): Promise<ApiKey[]> {
    return services.apiKeys.list(requireStaff(principal));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ApiKey, { description: 'Revokes an API key at once; again is harmless (admin).' })
  revokeApiKey(
    @Arg('id', () => ID, { description: 'Key id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<ApiKey> {
    return services.apiKeys.revoke(requireStaff(principal), id);
  }
}
