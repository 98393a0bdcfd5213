import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, Extensions, FieldResolver, ID, Info, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ApiScope } from '../entities/api-key.entity';
import { BusinessRecord } from '../entities/business-record.entity';
import { Contact } from '../entities/contact.entity';
import { Role, STAFF_ROLES, User } from '../entities/user.entity';
import { keyOrStaff } from '../schema/auth';
import { IDEMPOTENCY_KEY_ARGUMENT, oncePerKey } from '../schema/idempotency';
import { pageInfo, splitPage } from '../schema/connection';
import type { AuthedContext, Context } from '../schema/context';
import {
  BusinessRecordConnection,
  BusinessRecordInput,
  BusinessRecordsArgs,
  PersonRecordsArgs,
  RecordUpsertReport,
} from '../schema/record.types';
import type { Principal } from '../services/directory/principal';
import type { RecordFilter } from '../services/records/record.service';
import { MAX_RECORDS_PER_CALL } from '../services/records/record.service';
import type { PageRequest } from '../services/platform/pagination';

async function recordPage(
  principal: Principal,
  context: AuthedContext,
  filter: RecordFilter,
  page: PageRequest,
): Promise<BusinessRecordConnection> {
  const result = await context.services.records.list(principal, filter, page);
  return { ...result, pageInfo: pageInfo(result) };
}

@Resolver(() => BusinessRecord)
export class BusinessRecordResolver {
  @Extensions({ apiScope: ApiScope.RECORDS_WRITE })
  @Mutation(() => RecordUpsertReport, {
    description: `Creates or updates up to ${MAX_RECORDS_PER_CALL} business records by kind and external id (API key with records:write, or admin). Bad rows are reported and skipped; a change of status records a record.status_changed event.`,
  })
  upsertBusinessRecords(
    @Arg('records', () => [BusinessRecordInput], { description: 'The records, in order.' }) records: BusinessRecordInput[],
    @Arg('idempotencyKey', () => String, { nullable: true, description: IDEMPOTENCY_KEY_ARGUMENT })
    idempotencyKey: string | null,
    @Ctx() context: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<RecordUpsertReport> {
    const { tenantId, actorId } = keyOrStaff(context, ApiScope.RECORDS_WRITE, [Role.ADMIN]);
    const rows = records.map((record) => ({ ...record }));
    return oncePerKey(context, info, tenantId, idempotencyKey, rows, (within) =>
      context.services.records.upsert(tenantId, rows, actorId, within),
    );
  }

  @Authorized()
  @Query(() => BusinessRecordConnection, {
    description: 'Business records of the tenant, newest first; customers see only their own.',
  })
  businessRecords(@Args() args: BusinessRecordsArgs, @Ctx() context: AuthedContext): Promise<BusinessRecordConnection> {
    const [request, filter] = splitPage(args);
    return recordPage(context.principal, context, filter, request);
  }

  @Authorized()
  @Query(() => BusinessRecord, {
    nullable: true,
    description:
      'One business record; customers may read only their own. Null, with a NOT_FOUND error, when there is none: the rest of the answer stays.',
  })
  businessRecord(
    @Arg('id', () => ID, { description: 'Record id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<BusinessRecord> {
    return services.records.get(principal, id);
  }

  @FieldResolver(() => Contact, { nullable: true, description: 'The customer it is about.' })
  async contact(@Root() record: BusinessRecord, @Ctx() { loaders }: AuthedContext): Promise<Contact | null> {
    return record.contactId ? ((await loaders.contact.load(record.contactId)) ?? null) : null;
  }

  @Authorized(...STAFF_ROLES)
  @FieldResolver(() => User, { nullable: true, description: 'The staff user it is about (staff only).' })
  async user(@Root() record: BusinessRecord, @Ctx() { loaders }: AuthedContext): Promise<User | null> {
    return record.userId ? ((await loaders.user.load(record.userId)) ?? null) : null;
  }

  @Authorized(...STAFF_ROLES)
  @FieldResolver(() => User, { nullable: true, description: 'The staff user responsible for it (staff only).' })
  async owner(@Root() record: BusinessRecord, @Ctx() { loaders }: AuthedContext): Promise<User | null> {
    return record.ownerId ? ((await loaders.user.load(record.ownerId)) ?? null) : null;
  }
}

@Resolver(() => Contact)
export class ContactRecordsResolver {
  @FieldResolver(() => BusinessRecordConnection, { description: 'Quotes, invoices, bookings, jobs... about this contact.' })
  businessRecords(
    @Root() contact: Contact,
    @Args() args: PersonRecordsArgs,
    @Ctx() context: AuthedContext,
  ): Promise<BusinessRecordConnection> {
    const [request, { kinds, open }] = splitPage(args);
    return recordPage(context.principal, context, { contactId: contact.id, kinds, open }, request);
  }
}

@Resolver(() => User)
export class UserRecordsResolver {
  @FieldResolver(() => BusinessRecordConnection, {
    description: 'Records about this user (e.g. their trainings), or with owned: true the records they are responsible for.',
  })
  businessRecords(
    @Root() user: User,
    @Args() args: PersonRecordsArgs,
    @Arg('owned', () => Boolean, { defaultValue: false, description: 'The records they own instead.' }) owned: boolean,
    @Ctx() context: AuthedContext,
  ): Promise<BusinessRecordConnection> {
    const [request, { kinds, open }] = splitPage(args);
    const filter = owned ? { ownerId: user.id, kinds, open } : { userId: user.id, kinds, open };
    return recordPage(context.principal, context, filter, request);
  }
}
