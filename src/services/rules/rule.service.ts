import { randomUUID } from 'node:crypto';
import { type DataSource, type EntityManager, In } from 'typeorm';
import { AutomationRule, RuleTriggerType } from '../../entities/automation-rule.entity';
import { type Channel, DeliveryStatus } from '../../entities/channel';
import type { DomainEvent } from '../../entities/domain-event.entity';
import { MessageTemplate } from '../../entities/message-template.entity';
import { Tenant } from '../../entities/tenant.entity';
import { CronExpressionParser } from 'cron-parser';
import { type ActionOutcome, RuleExecution, RuleExecutionStatus } from '../../entities/rule-execution.entity';
import { templateVariables } from '../delivery/template-rendering';
import type { StaffPrincipal } from '../directory/principal';
import type { EventConsumer } from '../events/event-consumers';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, badInput, conflict, notFound } from '../platform/errors';
import { isUuid } from '../platform/ids';
import { type Page, type PageRequest, newestFirstPage } from '../platform/pagination';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';
import { type Condition, evaluate } from './conditions';
import { type RuleInput, type TemplateCatalogue, checkRule } from './rule-definition';
import { RuleCache } from './rule-cache';
import { type DelayWaker, type Facts, type FactIds, type Occurrence, RuleEngine } from './rule-engine';

export interface RuleFilter {
  active?: boolean | null;
  triggerType?: RuleTriggerType | null;
  eventType?: string | null;
  search?: string | null;
}

export interface ExecutionFilter {
  ruleId?: string | null;
  statuses?: RuleExecutionStatus[] | null;
  subjectId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

/** A sample for a dry run: an event type, what it is about, and its payload. */
export interface SampleEvent {
  type: string;
  subjectType?: string | null;
  subjectId?: string | null;
  payload?: Record<string, unknown> | null;
}

export interface DryRunMessage {
  channel: Channel;
  to: string;
  subject: string | null;
  body: string;
  status: 'queued' | 'cancelled';
}

export interface DryRunAction {
  index: number;
  type: string;
  status: ActionOutcome['status'];
  error: string | null;
  detail: string | null;
  deliveryIds: string[];
  messages: DryRunMessage[];
}

export interface DryRunResult {
  matched: boolean;
  reason: string | null;
  /** When a delayed rule would act. */
  wouldRunAt: Date | null;
  actions: DryRunAction[];
  facts: Record<string, unknown>;
}

export interface RuleStats {
  ruleId: string;
  name: string;
  succeeded: number;
  failed: number;
  skipped: number;
  delayed: number;
  deliveries: number;
}

/** Rolls a dry run back once its result is read. */
class DryRunDone extends Error {
  constructor(readonly result: DryRunResult) {
    super('dry run');
  }
}

/**
 * Automation rules: admins' "when, if, after, do" written without code. Saved rules are
 * checked whole; the relay hands every domain event to `consumer`, which runs the rules
 * listening to its type in the event's own transaction; the worker resumes delayed
 * executions as they come due.
 */
export class RuleService {
  readonly consumer: EventConsumer;

  private readonly cache = new RuleCache();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
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

  // ---- rules ----

  list(actor: StaffPrincipal, filter: RuleFilter, page: PageRequest): Promise<Page<AutomationRule>> {
    const query = this.dataSource
      .getRepository(AutomationRule)
      .createQueryBuilder('r')
      .where('r."tenantId" = :tenantId', { tenantId: actor.tenantId });
    if (filter.active != null) query.andWhere('r.active = :active', { active: filter.active });
    if (filter.triggerType) query.andWhere('r."triggerType" = :triggerType', { triggerType: filter.triggerType });
    if (filter.eventType) query.andWhere(':eventType = ANY(r."eventTypes")', { eventType: filter.eventType });
    if (filter.search?.trim()) {
      query.andWhere('r.name ILIKE :pattern', { pattern: `%${filter.search.trim().replace(/[\\%_]/g, (c) => '\\' + c)}%` });
    }
    return newestFirstPage(query, 'r', page);
  }

  async get(actor: StaffPrincipal, id: string): Promise<AutomationRule> {
    const rule = isUuid(id)
      ? await this.dataSource.getRepository(AutomationRule).findOneBy({ id, tenantId: actor.tenantId })
      : null;
    if (!rule) throw notFound('Automation rule', id);
    return rule;
  }

  async create(actor: StaffPrincipal, input: RuleInput): Promise<AutomationRule> {
    await this.check(actor.tenantId, input);
    const repository = this.dataSource.getRepository(AutomationRule);
    await this.assertNameFree(actor.tenantId, input.name.trim());
    return repository.save(
      repository.create({
        ...this.columns(input),
        tenantId: actor.tenantId,
        active: input.active ?? true,
        // The service's clock: a schedule rule runs only for occurrences after it was created.
        createdAt: this.clock.now(),
        createdById: actor.userId,
        updatedById: actor.userId,
      }),
    );
  }

  /** Replaces the rule's definition; executions already waiting on a delay act with the new one. */
  async update(actor: StaffPrincipal, id: string, input: RuleInput): Promise<AutomationRule> {
    const rule = await this.get(actor, id);
    await this.check(actor.tenantId, input);
    if (input.name.trim() !== rule.name) await this.assertNameFree(actor.tenantId, input.name.trim());
    Object.assign(rule, this.columns(input), { updatedById: actor.userId });
    if (input.active != null) rule.active = input.active;
    return this.dataSource.getRepository(AutomationRule).save(rule);
  }

  async setActive(actor: StaffPrincipal, id: string, active: boolean): Promise<AutomationRule> {
    const rule = await this.get(actor, id);
    rule.active = active;
    rule.updatedById = actor.userId;
    return this.dataSource.getRepository(AutomationRule).save(rule);
  }

  /** Deletes the rule; its history stays (with its name), and its waiting delays never act. */
  async delete(actor: StaffPrincipal, id: string): Promise<boolean> {
    const rule = await this.get(actor, id);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `UPDATE rule_execution SET status = $2, reason = 'The rule was deleted before its delay ended', "finishedAt" = $3
          WHERE "ruleId" = $1 AND status = 'delayed'`,
        [rule.id, RuleExecutionStatus.SKIPPED, this.clock.now()],
      );
      await manager.delete(AutomationRule, { id: rule.id });
    });
    return true;
  }

  async duplicate(actor: StaffPrincipal, id: string): Promise<AutomationRule> {
    const rule = await this.get(actor, id);
    let name = `${rule.name} (copy)`.slice(0, 200);
    for (let n = 2; await this.dataSource.getRepository(AutomationRule).existsBy({ tenantId: actor.tenantId, name }); n++) {
      name = `${rule.name} (copy ${n})`.slice(0, 200);
    }
    const repository = this.dataSource.getRepository(AutomationRule);
    const { id: _id, createdAt: _c, updatedAt: _u, ...definition } = rule;
    return repository.save(
      repository.create({
        ...definition,
        name,
        active: false,
        builtIn: null,
        executionCount: 0,
        successCount: 0,
        failureCount: 0,
        lastExecutedAt: null,
        createdById: actor.userId,
        updatedById: actor.userId,
      }),
    );
  }

  private columns(input: RuleInput): Partial<AutomationRule> {
    return {
      name: input.name.trim(),
      description: input.description?.trim() || null,
      triggerType: input.triggerType,
      eventTypes: input.triggerType === RuleTriggerType.EVENT ? [...new Set(input.eventTypes ?? [])] : [],
      dateTrigger: input.dateTrigger ?? null,
      cron: input.triggerType === RuleTriggerType.SCHEDULE ? (input.cron?.trim() ?? null) : null,
      cronTimezone: input.triggerType === RuleTriggerType.SCHEDULE ? (input.cronTimezone ?? null) : null,
      conditions: input.conditions ?? null,
      delay: input.delay ?? null,
      actions: input.actions,
      stopOnFailure: input.stopOnFailure ?? false,
      validFrom: input.validFrom ?? null,
      validUntil: input.validUntil ?? null,
      maxExecutions: input.maxExecutions ?? null,
      maxExecutionsPerSubject: input.maxExecutionsPerSubject ?? null,
      cooldownMinutes: input.cooldownMinutes ?? null,
      priority: input.priority ?? 0,
    };
  }

  private async assertNameFree(tenantId: string, name: string): Promise<void> {
    if (await this.dataSource.getRepository(AutomationRule).existsBy({ tenantId, name })) {
      throw conflict(`A rule named "${name}" already exists`);
    }
  }

  /** Refuses a rule that could not run, naming every problem's place. */
  private async check(tenantId: string, input: RuleInput): Promise<void> {
    const templates = await this.catalogue(tenantId);
    const problems = checkRule(input, templates);
    problems.push(...(await this.unknownUsers(tenantId, input)));
    if (problems.length) {
      throw new DomainError(
        ErrorCode.BadUserInput,
        `The rule cannot be saved: ${problems
          .slice(0, 5)
          .map(({ path, problem }) => `${path} ${problem}`)
          .join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`,
        { field: problems[0].path, problems },
      );
    }
  }

  /** Users an action names must be of this tenant: another tenant's id is as unknown as a made-up one. */
  private async unknownUsers(tenantId: string, input: RuleInput): Promise<Array<{ path: string; problem: string }>> {
    const named: Array<{ path: string; id: string }> = [];
    (Array.isArray(input.actions) ? input.actions : []).forEach((action, index) => {
      if (isUuid(action?.userId)) named.push({ path: `actions[${index}].userId`, id: action.userId as string });
      const recipients = Array.isArray(action?.recipients) ? (action.recipients as Array<Record<string, unknown>>) : [];
      recipients.forEach((recipient, n) => {
        if (isUuid(recipient?.userId))
          named.push({ path: `actions[${index}].recipients[${n}].userId`, id: recipient.userId as string });
      });
    });
    if (!named.length) return [];
    const found = new Set(
      (
        (await this.dataSource.query(`SELECT id FROM "user" WHERE "tenantId" = $1 AND id = ANY($2::uuid[])`, [
          tenantId,
          named.map((entry) => entry.id),
        ])) as Array<{ id: string }>
      ).map((row) => row.id),
    );
    return named
      .filter((entry) => !found.has(entry.id))
      .map((entry) => ({ path: entry.path, problem: 'no user of this tenant has this id' }));
  }

  /** The tenant's templates by channel and name; `name.id` and `name.en` are languages of `name`. */
  private async catalogue(tenantId: string): Promise<TemplateCatalogue> {
    const templates = await this.dataSource.getRepository(MessageTemplate).find({ where: { tenantId } });
    const byKey = new Map<string, Set<string>>();
    for (const template of templates) {
      const variables = templateVariables(`${template.subject ?? ''} ${template.body}`);
      const base = template.name.replace(/\.[a-z]{2}(-[A-Z]{2})?$/, '');
      for (const name of new Set([template.name, base])) {
        const key = `${template.channel}:${name}`;
        byKey.set(key, new Set([...(byKey.get(key) ?? []), ...variables]));
      }
    }
    return {
      variables: (channel: Channel, name: string) => {
        const found = byKey.get(`${channel}:${name}`);
        return found ? [...found] : undefined;
      },
    };
  }

  // ---- running ----

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
    const { facts, ids } = await this.engine.loadFacts(manager, event.tenantId, RuleEngine.idsOf(event), event, tenant);
    const now = this.clock.now();
    const holds = rules.map((rule) => evaluate(rule.conditions as Condition | null, facts as never, now).matched);
    return { rules, facts, ids, holds };
  }

  /** Runs a rule now for a subject (runAutomationRule): limits and conditions apply as to any trigger. */
  async runManually(actor: StaffPrincipal, id: string, subject: { type: string; id: string }): Promise<RuleExecution> {
    const rule = await this.get(actor, id);
    const ids = await this.subjectIds(actor.tenantId, subject);
    return this.transactor.run(async (uow) => {
      const { facts, ids: loaded } = await this.engine.loadFacts(
        uow.manager,
        actor.tenantId,
        { ...ids, actorId: actor.userId },
        null,
      );
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

  /**
   * A dry run: whether the rule matches the sample, why not, and what its actions would
   * do, with the messages rendered to whom. It runs the real path in a transaction that
   * is rolled back, so nothing is written, queued or published.
   */
  async test(actor: StaffPrincipal, rule: AutomationRule | RuleInput, sample: SampleEvent): Promise<DryRunResult> {
    if (!('id' in rule)) await this.check(actor.tenantId, rule);
    const ids =
      sample.subjectType && sample.subjectId
        ? await this.subjectIds(actor.tenantId, { type: sample.subjectType, id: sample.subjectId })
        : {};
    const candidate = Object.assign(new AutomationRule(), {
      executionCount: 0,
      successCount: 0,
      failureCount: 0,
      ...('id' in rule ? rule : this.columns(rule)),
      id: 'id' in rule ? rule.id : randomUUID(),
      tenantId: actor.tenantId,
      active: true,
    });
    try {
      await this.transactor.run(async (uow) => {
        if (!('id' in rule)) await uow.manager.save(AutomationRule, { ...candidate, name: `dry-run ${candidate.id}` });
        const event = {
          id: null,
          tenantId: actor.tenantId,
          type: sample.type,
          subjectType: sample.subjectType ?? 'none',
          subjectId: sample.subjectId ?? null,
          payload: sample.payload ?? {},
          actorId: actor.userId,
          occurredAt: this.clock.now(),
          source: 'test',
          depth: 0,
        } as unknown as DomainEvent;
        const { facts, ids: loaded } = await this.engine.loadFacts(
          uow.manager,
          actor.tenantId,
          { ...RuleEngine.idsOf(event), ...ids },
          event,
        );
        const listens = candidate.triggerType !== RuleTriggerType.EVENT || eventMatches(candidate.eventTypes, sample.type);
        if (!listens) {
          throw new DryRunDone({
            matched: false,
            reason: `It listens to ${candidate.eventTypes.join(', ')}, not ${sample.type}`,
            wouldRunAt: null,
            actions: [],
            facts: plainFacts(facts),
          });
        }
        const occurrence = occurrenceOf(event, loaded, `test:${randomUUID()}`);
        const { execution } = await this.engine.execute(uow, candidate, occurrence, facts);
        if (execution.status === RuleExecutionStatus.SKIPPED) {
          throw new DryRunDone({
            matched: false,
            reason: execution.reason,
            wouldRunAt: null,
            actions: [],
            facts: plainFacts(facts),
          });
        }
        let acted = execution;
        if (execution.status === RuleExecutionStatus.DELAYED) acted = await this.engine.resume(uow, execution, candidate);
        const deliveries = await RuleEngine.deliveriesOf(uow.manager, execution.id);
        throw new DryRunDone({
          matched: true,
          reason: acted.status === RuleExecutionStatus.SKIPPED ? acted.reason : null,
          wouldRunAt: execution.runAt,
          facts: plainFacts(facts),
          actions: acted.actionOutcomes.map((outcome) => ({
            ...outcome,
            messages: deliveries
              .filter((delivery) => outcome.deliveryIds.includes(delivery.id))
              .map((delivery) => ({
                channel: delivery.channel,
                to: delivery.recipient,
                subject: delivery.subject,
                body: delivery.body,
                // Nothing leaves a dry run: a message is either queued or (opted out) cancelled.
                status: delivery.status === DeliveryStatus.CANCELLED ? ('cancelled' as const) : ('queued' as const),
              })),
          })),
        });
      });
    } catch (error) {
      if (error instanceof DryRunDone) return error.result;
      throw error;
    }
    throw new Error('A dry run ended without a result');
  }

  /** Acts on delayed executions that came due, each in its own transaction; returns how many. */
  async runDue(limit = 100): Promise<number> {
    let done = 0;
    while (done < limit) {
      const acted = await this.transactor.run(async (uow) => {
        const [execution] = await uow.manager
          .getRepository(RuleExecution)
          .createQueryBuilder('e')
          .setLock('pessimistic_write')
          .setOnLocked('skip_locked')
          .where(`e.status = 'delayed' AND e."runAt" <= :now`, { now: this.clock.now() })
          .orderBy('e."runAt"', 'ASC')
          .limit(1)
          .getMany();
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
  async pruneSkipped(olderThanDays: number, batch = 10_000): Promise<number> {
    const before = new Date(this.clock.now().getTime() - olderThanDays * 86_400_000);
    let pruned = 0;
    for (;;) {
      const [, count] = (await this.dataSource.query(
        `DELETE FROM rule_execution WHERE id IN (
           SELECT id FROM rule_execution WHERE status = 'skipped' AND "finishedAt" < $1 LIMIT $2)`,
        [before, batch],
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
  async scanDates(): Promise<number> {
    const rules = await this.dataSource
      .getRepository(AutomationRule)
      .findBy({ active: true, triggerType: RuleTriggerType.RELATIVE_DATE });
    let acted = 0;
    for (const rule of rules) {
      const trigger = rule.dateTrigger as unknown as DateTrigger;
      for (const offset of trigger.offsetsDays) {
        for (const due of await this.dueOn(rule, trigger, offset)) {
          acted += await this.transactor.run(async (uow) => {
            const ids: FactIds = trigger.field.startsWith('record.') ? { recordId: due.id } : { contactId: due.id };
            const { facts, ids: loaded } = await this.engine.loadFacts(uow.manager, rule.tenantId, ids, null);
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
  async scanSchedules(): Promise<number> {
    const rules = await this.dataSource
      .getRepository(AutomationRule)
      .findBy({ active: true, triggerType: RuleTriggerType.SCHEDULE });
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
        const { facts, ids } = await this.engine.loadFacts(uow.manager, rule.tenantId, {}, null);
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

  // ---- history ----

  executions(actor: StaffPrincipal, filter: ExecutionFilter, page: PageRequest): Promise<Page<RuleExecution>> {
    const query = this.dataSource
      .getRepository(RuleExecution)
      .createQueryBuilder('e')
      .where('e."tenantId" = :tenantId', { tenantId: actor.tenantId });
    const none = '00000000-0000-0000-0000-000000000000';
    if (filter.ruleId) query.andWhere('e."ruleId" = :ruleId', { ruleId: isUuid(filter.ruleId) ? filter.ruleId : none });
    if (filter.subjectId)
      query.andWhere('e."subjectId" = :subjectId', { subjectId: isUuid(filter.subjectId) ? filter.subjectId : none });
    if (filter.statuses?.length) query.andWhere('e.status IN (:...statuses)', { statuses: filter.statuses });
    if (filter.from) query.andWhere('e."createdAt" >= :from', { from: filter.from });
    if (filter.to) query.andWhere('e."createdAt" < :to', { to: filter.to });
    return newestFirstPage(query, 'e', page);
  }

  /** Per rule over [from, to): executions by outcome and the messages they queued. */
  async stats(actor: StaffPrincipal, from: Date, to: Date): Promise<RuleStats[]> {
    if (from >= to) throw badInput('`from` must be before `to`', 'from');
    const rows = (await this.dataSource.query(
      `SELECT r.id AS "ruleId", r.name,
              count(e.id) FILTER (WHERE e.status = 'succeeded')::int AS succeeded,
              count(e.id) FILTER (WHERE e.status = 'failed')::int AS failed,
              count(e.id) FILTER (WHERE e.status = 'skipped')::int AS skipped,
              count(e.id) FILTER (WHERE e.status = 'delayed')::int AS delayed,
              (SELECT count(*)::int FROM delivery d JOIN rule_execution x ON x.id = d."ruleExecutionId"
                WHERE x."ruleId" = r.id AND x."createdAt" >= $2 AND x."createdAt" < $3) AS deliveries
         FROM automation_rule r
         LEFT JOIN rule_execution e ON e."ruleId" = r.id AND e."createdAt" >= $2 AND e."createdAt" < $3
        WHERE r."tenantId" = $1
        GROUP BY r.id, r.name
        ORDER BY r.name`,
      [actor.tenantId, from, to],
    )) as RuleStats[];
    return rows;
  }

  /** The fact ids of a named subject of the tenant; NOT_FOUND otherwise. */
  private async subjectIds(tenantId: string, subject: { type: string; id: string }): Promise<FactIds> {
    const tables: Record<string, [string, keyof FactIds]> = {
      ticket: ['ticket', 'ticketId'],
      contact: ['contact', 'contactId'],
      business_record: ['business_record', 'recordId'],
      user: ['"user"', 'userId'],
    };
    const table = tables[subject.type];
    if (!table) throw badInput('The subject type must be ticket, contact, business_record or user', 'subject.type');
    const rows = isUuid(subject.id)
      ? ((await this.dataSource.query(`SELECT id FROM ${table[0]} WHERE id = $1 AND "tenantId" = $2`, [
          subject.id,
          tenantId,
        ])) as unknown[])
      : [];
    if (!rows.length) throw notFound(subject.type, subject.id);
    return { [table[1]]: subject.id };
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

function occurrenceOf(event: DomainEvent, ids: FactIds, dedupeKey: string): Occurrence {
  return {
    trigger: RuleTriggerType.EVENT,
    dedupeKey,
    event,
    subjectType: event.subjectId ? event.subjectType : null,
    subjectId: event.subjectId,
    ids,
    depth: event.depth ?? 0,
  };
}

export function eventMatches(patterns: string[], type: string): boolean {
  return patterns.some(
    (pattern) => pattern === '*' || pattern === type || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))),
  );
}

function plainFacts(facts: Facts): Record<string, unknown> {
  return JSON.parse(JSON.stringify(facts)) as Record<string, unknown>;
}
