import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../entities/user.entity';
import type { AuthedContext } from '../schema/context';
import { EventConsumerStatus } from '../schema/event.types';

@Resolver()
export class EventResolver {
  @Authorized(Role.ADMIN)
  @Query(() => [EventConsumerStatus], { description: 'Every domain-event consumer with its lag and parked events (admin).' })
  eventConsumers(@Ctx() { principal, services }: AuthedContext): Promise<EventConsumerStatus[]> {
    return services.events.status(principal.tenantId);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Int, {
    description:
      "Puts a consumer's parked events of this tenant back in line, to be handled now, in order; returns how many (admin).",
  })
  retryParkedEvents(
    @Arg('consumer', { description: 'Consumer name, from eventConsumers.' }) consumer: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<number> {
    return services.events.retryParked(principal.tenantId, consumer);
  }
}
