import { filter, pipe } from '@graphql-yoga/subscription';
import {
  Arg,
  Args,
  ArgsType,
  Authorized,
  Ctx,
  Field,
  ID,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { StaffNotification } from '../entities/staff-notification.entity';
import { STAFF_ROLES } from '../entities/user.entity';
import { PageArgs, PageInfo, pageInfo, splitPage } from '../schema/connection';
import type { AuthedContext, Context } from '../schema/context';
import { requireStaff } from '../services/directory/principal';
import { DomainError, ErrorCode } from '../services/platform/errors';

@ArgsType()
class MyNotificationsArgs extends PageArgs {
  @Field(() => Boolean, { defaultValue: false, description: 'Only the unread ones.' })
  unreadOnly!: boolean;
}

@ObjectType({ description: 'A notification in a list, with its cursor.' })
class StaffNotificationEdge {
  @Field(() => StaffNotification, { description: 'The notification.' })
  node!: StaffNotification;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of the caller’s notifications, newest first.' })
class StaffNotificationConnection {
  @Field(() => [StaffNotificationEdge], { description: 'Notifications of this page.' })
  edges!: StaffNotificationEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many match in all.' })
  totalCount!: number;
}

@Resolver(() => StaffNotification)
export class StaffNotificationResolver {
  @Authorized(...STAFF_ROLES)
  @Query(() => StaffNotificationConnection, { description: 'Your in-app notifications, newest first.' })
  async myNotifications(
    @Args() args: MyNotificationsArgs,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<StaffNotificationConnection> {
    const [request, { unreadOnly }] = splitPage(args);
    const page = await services.notifications.mine(requireStaff(principal), unreadOnly, request);
    return { ...page, pageInfo: pageInfo(page) };
  }

  @Authorized(...STAFF_ROLES)
  @Mutation(() => Int, {
    description: 'Marks your notifications read (these ids, or all when omitted); answers how many changed.',
  })
  markNotificationsRead(
    @Ctx() { principal, services }: AuthedContext,
    @Arg('ids', () => [ID], { nullable: true, description: 'Which; all unread when omitted.' }) ids?: string[],
  ): Promise<number> {
    return services.notifications.markRead(requireStaff(principal), ids);
  }

  @Subscription(() => StaffNotification, {
    description: 'Your new in-app notifications, live.',
    subscribe: ({ context }: { context: Context }) => {
      const principal = context.principal;
      if (!principal) throw new DomainError(ErrorCode.Unauthenticated, 'Sign in first');
      const staff = requireStaff(principal);
      return pipe(
        context.services.live.subscribe('staffNotificationAdded', staff.userId),
        filter((notification: StaffNotification) => notification.tenantId === staff.tenantId),
      );
    },
  })
  staffNotificationAdded(@Root() notification: StaffNotification): StaffNotification {
    return notification;
  }
}
