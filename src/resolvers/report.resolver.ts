import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { Channel } from '../entities/channel';
import { Delivery } from '../entities/delivery.entity';
import { STAFF_ROLES } from '../entities/user.entity';
import type { AuthedContext } from '../schema/context';
import { ReportKind, ReportPeriod } from '../schema/report.types';
import { requireStaff } from '../services/directory/principal';

@Resolver()
export class ReportResolver {
  @Authorized(...STAFF_ROLES)
  @Mutation(() => [Delivery], {
    description:
      'Sends a report now to staff users (admins and managers: any report; supervisors: technician performance). A technician receives their own figures.',
  })
  sendReport(
    @Arg('kind', () => ReportKind, { description: 'Which report.' }) kind: ReportKind,
    @Arg('period', () => ReportPeriod, { description: 'What it covers.' }) period: ReportPeriod,
    @Arg('to', () => [ID], { description: 'Staff users to send it to.' }) to: string[],
    @Ctx() { principal, services }: AuthedContext,
    @Arg('channel', () => Channel, { nullable: true, description: 'How (WhatsApp by default).' }) channel?: Channel,
  ): Promise<Delivery[]> {
    return services.reports.send(requireStaff(principal), kind, period, to, channel ?? undefined);
  }
}
