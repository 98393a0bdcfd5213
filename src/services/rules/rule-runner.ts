import { randomUUID } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { type DataSource, type EntityManager, In } from 'typeorm';
import { AutomationRule, RuleTriggerType } from '../../entities/automation-rule.entity';
import type { DomainEvent } from '../../entities/domain-event.entity';
import { RuleExecution, RuleExecutionStatus } from '../../entities/rule-execution.entity';
import { Tenant } from '../../entities/tenant.entity';
import type { StaffPrincipal } from '../directory/principal';
import type { EventConsumer } from '../events/event-consumers';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, assertPeriod, conflict, notFound } from '../platform/errors';
import { isUuid } from '../platform/ids';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';
import { type Condition, evaluate } from './conditions';
import { type FactIds, type Facts, idsOf, loadFacts } from './facts';
import { RuleCache } from './rule-cache';
import { type DelayWaker, type Occurrence, RuleEngine } from './rule-engine';
import type { RuleService } from './rule.service';
import { occurrenceOf, subjectIds } from './rule-subjects';

/**
 * Runs saved rules on what triggers them: the relay hands every domain event to
 * `consumer`, which runs the rules listening to its type in the event's own transaction;
 * the worker resumes delayed executions as they come due and scans relative-date and
 * schedule rules; admins run a rule by hand.
 */
export class RuleRunner {
  readonly consumer: EventConsumer;

  private readonly cache = new RuleCache();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly rules: RuleService,
    private readonly engine: RuleEngine,
    private readonly clock: Clock,
  ) {
    this.consumer = {
      name: 'rules',
      description: 'Automation rules listening to the event type',
      types: ['*'],
      handle: (event, uow) => this.onEvent(event, uow),
    };
  }

  /** Delayed executions get a one-off scheduler job at their time (see DelayWaker). */
  useDelayWaker(waker: DelayWaker): void {
    this.engine.delayWaker = waker;
  }

  /** The relay's hand-off: every active event rule listening to the type acts on the event, highest priority first. */
  async onEvent(event: DomainEvent, uow: UnitOfWork): Promise<void> {
    const matched = await this.match(uow.manager, event);
    if (!matched) return;
    await this.engine.executeAll(uow, matched.rules, occurrenceOf(event, matched.ids, `event:${event.id}`), matched.facts);
  }

  /**
   * Matching, without acting: the active rules listening to the event's type (one
   * indexed query), the facts they see, and whether each one's conditions hold.
   */
  async match(
    manager: EntityManager,
    event: DomainEvent,
  ): Promise<{ rules: AutomationRule[]; facts: Facts; ids: FactIds; holds: boolean[] } | null> {
    const tenant = await manager.findOneByOrFail(Tenant, { id: event.tenantId });
    const rules = await this.cache.listening(manager, tenant.id, tenant.rulesVersion, event.type);
    if (!rules.length) return null;
    const { facts, ids } = await loadFacts(manager, event.tenantId, idsOf(event), event, tenant);
    const now = this.clock.now();
    const holds = rules.map((rule) => evaluate(rule.conditions as Condition | null, facts as never, now).matched);
    return { rules, facts, ids, holds };
  }

  /**
   * Runs a failed execution's failed actions again (retryRuleExecution), with the rule as
   * it is now: an admin fixes what failed (a missing phone, a template), then retries.
   */
  async retry(actor: StaffPrincipal, id: string): Promise<RuleExecution> {
    if (!isUuid(id)) throw notFound('Rule execution', id);
    return this.transactor.run(async (uow) => {
      const execution = await uow.manager.findOne(RuleExecution, {
        where: { id, tenantId: actor.tenantId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!execution) throw notFound('Rule execution', id);
      if (execution.status !== RuleExecutionStatus.FAILED) {
        throw new DomainError(
          ErrorCode.InvalidTransition,
          `Only a FAILED execution is retried; this one is ${execution.status.toUpperCase()}`,
          { status: execution.status },
        );
      }
      const rule = execution.ruleId
        ? await uow.manager.findOneBy(AutomationRule, { id: execution.ruleId, tenantId: actor.tenantId })
        : null;
      if (!rule) throw conflict('The rule was deleted: its executions cannot run again');
      return this.engine.retry(uow, execution, rule);
    });
  }

  /** Retries a rule's failed executions created in [from, to), oldest first, each in its own transaction (at most 1,000 a call). */
  async retryFailed(
    actor: StaffPrincipal,
    ruleId: string,
    from: Date,
    to: Date,
  ): Promise<{ retried: number; succeeded: number; stillFailed: number }> {
    assertPeriod(from, to);
    const rule = await this.rules.get(actor, ruleId);
    const ids = (
      (await this.dataSource.query(
        `SELECT id FROM rule_execution WHERE "ruleId" = $1 AND "tenantId" = $2 AND status = 'failed'
            AND "createdAt" >= $3 AND "createdAt" < $4 ORDER BY "createdAt" LIMIT 1000`,
        [rule.id, actor.tenantId, from, to],
      )) as Array<{ id: string }>
    ).map((row) => row.id);
    let succeeded = 0;
    let retried = 0;
    for (const id of ids) {
      try {
        const execution = await this.retry(actor, id);
        retried++;
        if (execution.status === RuleExecutionStatus.SUCCEEDED) succeeded++;
      } catch (error) {
        // Retried meanwhile by someone else: not failed any more.
        if (!(error instanceof DomainError && error.code === ErrorCode.InvalidTransition)) throw error;
      }
    }
    return { retried, succeeded, stillFailed: retried - succeeded };
  }

  /** Runs a rule now for a subject (runAutomationRule): limits and conditions apply as to any trigger. */
  async runManually(actor: StaffPrincipal, id: string, subject: { type: string; id: string }): Promise<RuleExecution> {
    const rule = await this.rules.get(actor, id);
    const ids = await subjectIds(this.dataSource, actor.tenantId, subject);
    return this.transactor.run(async (uow) => {
      const { facts, ids: loaded } = await loadFacts(uow.manager, actor.tenantId, { ...ids, actorId: actor.userId }, null);
      const occurrence: Occurrence = {
        trigger: RuleTriggerType.MANUAL,
        dedupeKey: `manual:${randomUUID()}`,
        event: null,
        subjectType: subject.type,
        subjectId: subject.id,
        ids: loaded,
        depth: 0,
      };
      return (await this.engine.execute(uow, rule, occurrence, facts)).execution;
    });
  }

  /** Acts on delayed executions that came due, each in its own transaction; returns how many. */
  /** Tenants with delayed executions due now. */
  async tenantsWithDueDelays(): Promise<string[]> {
    const rows: Array<{ tenantId: string }> = await this.dataSource.query(
      `SELECT DISTINCT "tenantId" FROM rule_execution WHERE status = 'delayed' AND "runAt" <= $1`,
      [this.clock.now()],
    );
    return rows.map((row) => row.tenantId);
  }

  /** Tenants with active rules of a trigger type (those the date and schedule scans visit). */
  async tenantsWithRules(triggerType: RuleTriggerType): Promise<string[]> {
    const rows: Array<{ tenantId: string }> = await this.dataSource.query(
      `SELECT DISTINCT "tenantId" FROM automation_rule WHERE active AND "triggerType" = $1`,
      [triggerType],
    );
    return rows.map((row) => row.tenantId);
  }

  async runDue(limit = 100, tenantId: string | null = null): Promise<number> {
    let done = 0;
    while (done < limit) {
      const acted = await this.transactor.run(async (uow) => {
        const query = uow.manager
          .getRepository(RuleExecution)
          .createQueryBuilder('e')
          .setLock('pessimistic_write')
          .setOnLocked('skip_locked')
          .where(`e.status = 'delayed' AND e."runAt" <= :now`, { now: this.clock.now() });
        if (tenantId) query.andWhere('e."tenantId" = :tenantId', { tenantId });
        const [execution] = await query.orderBy('e."runAt"', 'ASC').limit(1).getMany();
        if (!execution) return false;
        const rule = execution.ruleId ? await uow.manager.findOneBy(AutomationRule, { id: execution.ruleId }) : null;
        await this.engine.resume(uow, execution, rule);
        return true;
      });
      if (!acted) break;
      done++;
    }
    return done;
  }

  /**
   * Deletes skipped executions (the bulk: every rule listening to a type records one per
   * event it did not act on) finished more than `olderThanDays` ago, in batches. Acted-on
   * and waiting executions stay: per-subject limits and cooldowns count them.
   */
  async pruneSkipped(olderThanDays: number, tenantId: string | null = null, batch = 10_000): Promise<number> {
    const before = new Date(this.clock.now().getTime() - olderThanDays * 86_400_000);
    let pruned = 0;
    for (;;) {
      const [, count] = (await this.dataSource.query(
        `DELETE FROM rule_execution WHERE id IN (
           SELECT id FROM rule_execution WHERE status = 'skipped' AND "finishedAt" < $1 AND ($3::uuid IS NULL OR "tenantId" = $3)
            LIMIT $2)`,
        [before, batch, tenantId],
      )) as [unknown, number];
      pruned += count;
      if (count < batch) return pruned;
    }
  }

  /**
   * Relative-date rules: for each active rule, the records (or contacts) whose date, moved
   * by one of the rule's offsets, is today in the recipient's (or tenant's) time zone and
   * whose local time of day has come. Each (rule, subject, offset, date) acts once, however
   * often this runs: a worker calls it every few minutes, and one that was down catches up
   * the same day. A record whose date moves gets reminders for its new date.
   */
  async scanDates(tenantId: string | null = null): Promise<number> {
    const rules = await this.dataSource
      .getRepository(AutomationRule)
      .findBy({ active: true, triggerType: RuleTriggerType.RELATIVE_DATE, ...(tenantId ? { tenantId } : {}) });
    let acted = 0;
    for (const rule of rules) {
      const trigger = rule.dateTrigger as unknown as DateTrigger;
      for (const offset of trigger.offsetsDays) {
        for (const due of await this.dueOn(rule, trigger, offset)) {
          acted += await this.transactor.run(async (uow) => {
            const ids: FactIds = trigger.field.startsWith('record.') ? { recordId: due.id } : { contactId: due.id };
            const { facts, ids: loaded } = await loadFacts(uow.manager, rule.tenantId, ids, null);
            const occurrence: Occurrence = {
              trigger: RuleTriggerType.RELATIVE_DATE,
              dedupeKey: `date:${due.id}:${trigger.field}:${offset}:${due.anchor}`,
              event: null,
              subjectType: trigger.field.startsWith('record.') ? 'business_record' : 'contact',
              subjectId: due.id,
              ids: loaded,
              depth: 0,
            };
            return (await this.engine.execute(uow, rule, occurrence, facts)).fresh ? 1 : 0;
          });
        }
      }
    }
    return acted;
  }

  /**
   * Schedule rules: each cron occurrence (in the rule's or tenant's time zone) runs the
   * rule once, keyed by the occurrence; a worker that was down catches up on the latest
   * missed occurrence of the last day, not on every one.
   */
  async scanSchedules(tenantId: string | null = null): Promise<number> {
    const rules = await this.dataSource
      .getRepository(AutomationRule)
      .findBy({ active: true, triggerType: RuleTriggerType.SCHEDULE, ...(tenantId ? { tenantId } : {}) });
    const now = this.clock.now();
    let acted = 0;
    // The tenants' time zones, in one query for all schedule rules.
    const zones = new Map(
      (await this.dataSource.getRepository(Tenant).findBy({ id: In([...new Set(rules.map((rule) => rule.tenantId))]) })).map(
        (tenant) => [tenant.id, tenant.timezone],
      ),
    );
    for (const rule of rules) {
      const occurrence = CronExpressionParser.parse(rule.cron!, {
        tz: rule.cronTimezone ?? zones.get(rule.tenantId) ?? 'UTC',
        currentDate: now,
      })
        .prev()
        .toDate();
      if (now.getTime() - occurrence.getTime() > 86_400_000 || occurrence < rule.createdAt) continue;
      acted += await this.transactor.run(async (uow) => {
        const { facts, ids } = await loadFacts(uow.manager, rule.tenantId, {}, null);
        const result = await this.engine.execute(
          uow,
          rule,
          {
            trigger: RuleTriggerType.SCHEDULE,
            dedupeKey: `schedule:${occurrence.toISOString()}`,
            event: null,
            subjectType: null,
            subjectId: null,
            ids,
            depth: 0,
            scheduledFor: occurrence,
          },
          facts,
        );
        return result.fresh ? 1 : 0;
      });
    }
    return acted;
  }

  /** The subjects of a relative-date rule due today for one offset, with the date they hang on. */
  private async dueOn(
    rule: AutomationRule,
    trigger: DateTrigger,
    offset: number,
  ): Promise<Array<{ id: string; anchor: string }>> {
    // A fixed zone, or the contact's, or the tenant's. The column comes from the checked list of date fields.
    const zone = trigger.timezone && trigger.timezone !== 'recipient' ? trigger.timezone : null;
    const at = trigger.atLocalTime ?? '09:00';
    const now = this.clock.now();
    const column = trigger.field.split('.')[1];
    const zoneOf = (parameter: number) => `COALESCE(CAST($${parameter} AS text), c.timezone, t.timezone)`;
    if (trigger.field.startsWith('record.')) {
      const tz = zoneOf(6);
      return (await this.dataSource.query(
        `SELECT r.id, to_char((r."${column}" AT TIME ZONE ${tz})::date, 'YYYY-MM-DD') AS anchor
           FROM business_record r
           JOIN tenant t ON t.id = r."tenantId"
           LEFT JOIN contact c ON c.id = r."contactId"
          WHERE r."tenantId" = $1 AND r."${column}" IS NOT NULL
            AND ($2::text[] IS NULL OR r.kind = ANY($2::text[]))
            AND (r."${column}" AT TIME ZONE ${tz})::date = ($3::timestamptz AT TIME ZONE ${tz})::date - $4::int
            AND ($3::timestamptz AT TIME ZONE ${tz})::time >= $5::time
          LIMIT 10000`,
        [rule.tenantId, trigger.kinds?.length ? trigger.kinds : null, now, offset, at, zone],
      )) as Array<{ id: string; anchor: string }>;
    }
    // A birthday or anniversary: every year, on its month and day.
    const tz = zoneOf(5);
    return (await this.dataSource.query(
      `SELECT c.id, to_char(($2::timestamptz AT TIME ZONE ${tz})::date - $3::int, 'YYYY-MM-DD') AS anchor
         FROM contact c
         JOIN tenant t ON t.id = c."tenantId"
        WHERE c."tenantId" = $1 AND c."${column}" IS NOT NULL
          AND to_char(c."${column}", 'MM-DD') = to_char(($2::timestamptz AT TIME ZONE ${tz})::date - $3::int, 'MM-DD')
          AND ($2::timestamptz AT TIME ZONE ${tz})::time >= $4::time
        LIMIT 10000`,
      [rule.tenantId, now, offset, at, zone],
    )) as Array<{ id: string; anchor: string }>;
  }
}

/** A relative-date rule's trigger, as checked when it was saved. */
interface DateTrigger {
  field: string;
  kinds?: string[];
  offsetsDays: number[];
  atLocalTime?: string;
  timezone?: string;
}
