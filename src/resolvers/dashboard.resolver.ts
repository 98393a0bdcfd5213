import { Arg, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import type { AuthedContext } from '../schema/context';
import { SupportDashboard } from '../schema/dashboard.types';
import { TICKET_WORKERS, requireStaff } from '../services/directory/principal';

@Resolver()
export class DashboardResolver {
  @Authorized(...TICKET_WORKERS)
  @Query(() => SupportDashboard, {
    description: 'Support figures for tickets created in [from, to), and the queue as it is now.',
  })
  supportDashboard(
    @Arg('from', () => Date, { description: 'Start of the period (inclusive).' }) from: Date,
    @Arg('to', () => Date, { description: 'End of the period (exclusive).' }) to: Date,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<SupportDashboard> {
    return services.dashboard.supportDashboard(requireStaff(principal), from, to, services.clock.now());
  }
}
