import type { DataSource } from 'typeorm';
import { StaffNotification } from '../../entities/staff-notification.entity';
import type { StaffPrincipal } from '../directory/principal';
import type { Clock } from '../platform/clock';
import { badInput } from '../platform/errors';
import { isUuid } from '../platform/ids';
import type { LiveEvents } from '../platform/live-events';
import { type Page, type PageRequest, newestFirstPage } from '../platform/pagination';
import type { UnitOfWork } from '../platform/unit-of-work';

export interface NotificationContent {
  title: string;
  body: string;
  ticketId?: string | null;
  recordId?: string | null;
}

/** In-app notifications for staff: written in the caller's transaction, pushed live after it commits. */
export class StaffNotificationService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly live: LiveEvents,
    private readonly clock: Clock,
  ) {}

  /** One notification per user; `key` makes it once per user however often the caller repeats. */
  async notify(
    uow: UnitOfWork,
    tenantId: string,
    userIds: string[],
    content: NotificationContent,
    key: string,
  ): Promise<string[]> {
    if (!userIds.length) return [];
    const rows = (await uow.manager.query(
      `INSERT INTO staff_notification ("tenantId", "userId", title, body, "ticketId", "recordId", "idempotencyKey", "createdAt")
       SELECT $1, u, $3, $4, $5, $6, $7 || ':' || u, $8 FROM unnest($2::uuid[]) AS u
       ON CONFLICT ("idempotencyKey") DO NOTHING
       RETURNING *`,
      [
        tenantId,
        userIds,
        content.title.slice(0, 200),
        content.body,
        content.ticketId ?? null,
        content.recordId ?? null,
        key,
        this.clock.now(),
      ],
    )) as StaffNotification[];
    const created = rows.map((row) => Object.assign(new StaffNotification(), row));
    uow.afterCommit(() => {
      for (const notification of created) this.live.publish('staffNotificationAdded', notification.userId, notification);
    });
    return created.map((notification) => notification.id);
  }

  mine(actor: StaffPrincipal, unreadOnly: boolean, page: PageRequest): Promise<Page<StaffNotification>> {
    const query = this.dataSource
      .getRepository(StaffNotification)
      .createQueryBuilder('n')
      .where('n."tenantId" = :tenantId AND n."userId" = :userId', { tenantId: actor.tenantId, userId: actor.userId });
    if (unreadOnly) query.andWhere('n."readAt" IS NULL');
    return newestFirstPage(query, 'n', page);
  }

  /** Marks the caller's notifications read (the given ones, or all); answers how many changed. */
  async markRead(actor: StaffPrincipal, ids: string[] | null | undefined): Promise<number> {
    if (ids && ids.length > 500) throw badInput('Mark at most 500 at once, or all', 'ids');
    const wanted = ids?.filter(isUuid);
    const result = (await this.dataSource.query(
      `UPDATE staff_notification SET "readAt" = $3
        WHERE "tenantId" = $1 AND "userId" = $2 AND "readAt" IS NULL AND ($4::uuid[] IS NULL OR id = ANY($4::uuid[]))`,
      [actor.tenantId, actor.userId, this.clock.now(), ids ? wanted : null],
    )) as [unknown[], number];
    return result[1];
  }
}
