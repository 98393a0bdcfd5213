import type { DataSource } from 'typeorm';
import { AutomationRule, RuleTriggerType } from '../../entities/automation-rule.entity';
import type { Channel } from '../../entities/channel';
import { MessageTemplate } from '../../entities/message-template.entity';
import { RuleExecution, RuleExecutionStatus } from '../../entities/rule-execution.entity';
import { templateVariables } from '../delivery/template-rendering';
import type { StaffPrincipal } from '../directory/principal';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, badInput, conflict, notFound } from '../platform/errors';
import { isUuid } from '../platform/ids';
import { type Page, type PageRequest, newestFirstPage } from '../platform/pagination';
import { type RuleCatalog, ruleCatalog } from './rule-catalog';
import { type RuleInput, type TemplateCatalogue, checkRule } from './rule-definition';

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

export interface RuleStats {
  ruleId: string;
  name: string;
  succeeded: number;
  failed: number;
  skipped: number;
  delayed: number;
  deliveries: number;
}

/**
 * Automation rules as admins write them ("when, if, after, do", without code): saved
 * whole after every check, and their history. Running them is the RuleRunner's.
 */
export class RuleService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

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

  /** What a rule builder can offer the tenant's admins (ruleCatalog). */
  catalog(actor: StaffPrincipal): Promise<RuleCatalog> {
    return ruleCatalog(this.dataSource.manager, actor.tenantId);
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

  /** The rule's columns from what an admin wrote. */
  columns(input: RuleInput): Partial<AutomationRule> {
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
  async check(tenantId: string, input: RuleInput): Promise<void> {
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
}
