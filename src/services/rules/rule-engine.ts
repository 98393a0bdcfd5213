import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { EntityManager } from 'typeorm';
import type { AutomationRule, RuleTriggerType } from '../../entities/automation-rule.entity';
import type { DomainEvent } from '../../entities/domain-event.entity';
import { Delivery } from '../../entities/delivery.entity';
import { type ActionOutcome, RuleExecution, RuleExecutionStatus } from '../../entities/rule-execution.entity';
import { automationActor } from '../directory/automation-user';
import type { StaffPrincipal } from '../directory/principal';
import { DomainError } from '../platform/errors';
import type { DomainEventInput, UnitOfWork } from '../platform/unit-of-work';
import { type ActionRun, type ActionServices, parseAction } from './actions';
import { type Condition, evaluate } from './conditions';
import { type FactIds, type Facts, loadFacts } from './facts';
import { delayMs } from './rule-definition';
import { refusal } from './rule-limits';

export type { FactIds, Facts } from './facts';

/**
 * Wakes the worker when a delayed execution comes due: a one-off scheduler (Agenda) job
 * at its time. The execution row is the truth: the worker's poll resumes it as well, so
 * a job that could not be scheduled (or whose process died) loses nothing.
 */
export interface DelayWaker {
  wake(at: Date, executionId: string): Promise<void>;
}

/** One occurrence of a trigger for a rule. */
export interface Occurrence {
  trigger: RuleTriggerType;
  dedupeKey: string;
  event: DomainEvent | null;
  subjectType: string | null;
  subjectId: string | null;
  ids: FactIds;
  depth: number;
  /** For a schedule: the occurrence it runs for. */
  scheduledFor?: Date;
}

export interface ExecutionResult {
  execution: RuleExecution;
  /** False when an execution for this occurrence already existed (nothing was done again). */
  fresh: boolean;
}

/**
 * Runs rules: decides whether a rule acts on an occurrence (validity, limits, cooldown,
 * loop depth, conditions), waits out its delay, and performs its actions inside the
 * caller's unit of work, each action under its own savepoint so one failing action is
 * undone alone and recorded. Every message is an ordinary Delivery with an idempotency
 * key per execution, action and recipient.
 */
export class RuleEngine {
  constructor(private readonly services: ActionServices) {}

  /** Schedules the one-off job that resumes a delayed execution when it comes due (the scheduler, once it is open). */
  delayWaker: DelayWaker | null = null;

  /**
   * Decides and acts (or waits) for one occurrence, in the caller's unit of work. An
   * occurrence seen before for this rule is not acted on again.
   */
  async execute(uow: UnitOfWork, rule: AutomationRule, occurrence: Occurrence, facts: Facts): Promise<ExecutionResult> {
    const existing = await uow.manager.findOneBy(RuleExecution, { ruleId: rule.id, dedupeKey: occurrence.dedupeKey });
    if (existing) return { execution: existing, fresh: false };
    const skipped: RuleExecution[] = [];
    const result = await this.decide(uow, rule, occurrence, facts, skipped);
    await insertExecutions(uow.manager, skipped);
    return result;
  }

  /**
   * Every rule listening to one occurrence (an event), in order: one query finds the
   * rules that saw it already (a redelivery), and the skipped executions, the common
   * case, are written together at the end.
   */
  async executeAll(uow: UnitOfWork, rules: AutomationRule[], occurrence: Occurrence, facts: Facts): Promise<void> {
    const seen = new Set(
      (
        (await uow.manager.query(`SELECT "ruleId" FROM rule_execution WHERE "dedupeKey" = $1 AND "ruleId" = ANY($2::uuid[])`, [
          occurrence.dedupeKey,
          rules.map((rule) => rule.id),
        ])) as Array<{ ruleId: string }>
      ).map((row) => row.ruleId),
    );
    const skipped: RuleExecution[] = [];
    for (const rule of rules) if (!seen.has(rule.id)) await this.decide(uow, rule, occurrence, facts, skipped);
    await insertExecutions(uow.manager, skipped);
  }

  private async decide(
    uow: UnitOfWork,
    rule: AutomationRule,
    occurrence: Occurrence,
    facts: Facts,
    skipped: RuleExecution[],
  ): Promise<ExecutionResult> {
    const { manager } = uow;
    const now = this.services.clock.now();
    const execution = manager.create(RuleExecution, {
      id: randomUUID(),
      tenantId: rule.tenantId,
      ruleId: rule.id,
      ruleName: rule.name,
      trigger: occurrence.trigger,
      eventType: occurrence.event?.type ?? null,
      eventId: occurrence.event?.id ?? null,
      dedupeKey: occurrence.dedupeKey,
      subjectType: occurrence.subjectType,
      subjectId: occurrence.subjectId,
      subjectKey: occurrence.subjectId ? `${occurrence.subjectType}:${occurrence.subjectId}` : null,
      context: {
        ...occurrence.ids,
        eventPayload: occurrence.event?.payload ?? null,
        eventType: occurrence.event?.type ?? null,
        ...(occurrence.scheduledFor ? { scheduledFor: occurrence.scheduledFor.toISOString() } : {}),
      },
      depth: occurrence.depth,
      runAt: null,
      actionOutcomes: [],
      createdAt: now,
      finishedAt: null,
      attempts: 1,
      retriedAt: null,
    });
    const refused =
      (await refusal(manager, rule, execution, now)) ?? evaluate(rule.conditions as Condition | null, facts as never, now).reason;
    if (refused) {
      Object.assign(execution, { status: RuleExecutionStatus.SKIPPED, reason: refused, finishedAt: now });
      skipped.push(execution);
      return { execution, fresh: true };
    }
    if (rule.delay) {
      execution.runAt = this.delayedUntil(rule.delay, facts, now);
      execution.status = RuleExecutionStatus.DELAYED;
      await insertExecution(manager, execution);
      const { runAt, id } = execution;
      uow.afterCommit(() => void this.delayWaker?.wake(runAt, id));
      return { execution, fresh: true };
    }
    const outcomes = await this.runActions(uow, rule, execution, facts);
    return this.finishActed(manager, rule, execution, outcomes, now, true);
  }

  /** Acts on a delayed execution that came due: the rule must still be active, and (unless it says not to) still match. */
  async resume(uow: UnitOfWork, execution: RuleExecution, rule: AutomationRule | null): Promise<RuleExecution> {
    const now = this.services.clock.now();
    const { manager } = uow;
    const skip = async (reason: string) =>
      (await this.finish(manager, execution, RuleExecutionStatus.SKIPPED, reason, [], now, false)).execution;
    if (!rule || !rule.active) return skip('The rule was deleted or switched off before its delay ended');
    const { facts } = await loadFacts(manager, execution.tenantId, execution.context as FactIds, eventOf(execution));
    if (rule.delay?.recheckConditions !== false) {
      const verdict = evaluate(rule.conditions as Condition | null, facts as never, now);
      if (!verdict.matched) return skip(`No longer holds after the delay: ${verdict.reason}`);
    }
    const outcomes = await this.runActions(uow, rule, execution, facts);
    return (await this.finishActed(manager, rule, execution, outcomes, now, false)).execution;
  }

  /**
   * Runs a failed execution's failed (and not-run) actions again, with the rule and facts as
   * they are now; succeeded actions keep their outcome. Messages keep their idempotency keys
   * (execution, action, recipient), so nothing that was queued goes twice.
   */
  async retry(uow: UnitOfWork, execution: RuleExecution, rule: AutomationRule): Promise<RuleExecution> {
    const now = this.services.clock.now();
    const { manager } = uow;
    const { facts } = await loadFacts(manager, execution.tenantId, execution.context as FactIds, eventOf(execution));
    const outcomes = await this.runActions(uow, rule, execution, facts, execution.actionOutcomes);
    const { status, reason } = verdict(outcomes);
    if (status === RuleExecutionStatus.SUCCEEDED) {
      await manager.query(
        `UPDATE automation_rule SET "successCount" = "successCount" + 1, "failureCount" = GREATEST("failureCount" - 1, 0) WHERE id = $1`,
        [rule.id],
      );
    }
    const changes = {
      status,
      reason,
      actionOutcomes: outcomes,
      attempts: execution.attempts + 1,
      retriedAt: now,
      finishedAt: now,
    };
    await manager.update(RuleExecution, { id: execution.id }, changes);
    return Object.assign(execution, changes);
  }

  /** When a delay ends: after its length, then at the next local time of day if it names one. */
  delayedUntil(delay: Record<string, unknown>, facts: Facts, now: Date): Date {
    const after = new Date(now.getTime() + delayMs(delay));
    if (typeof delay.untilLocalTime !== 'string') return after;
    const zone = (facts.contact?.timezone as string | null) ?? facts.tenant.timezone;
    const [hour, minute] = delay.untilLocalTime.split(':').map(Number);
    let at = DateTime.fromJSDate(after, { zone }).set({ hour, minute, second: 0, millisecond: 0 });
    if (at.toMillis() < after.getTime()) at = at.plus({ days: 1 });
    return at.toJSDate();
  }

  private async runActions(
    uow: UnitOfWork,
    rule: AutomationRule,
    execution: RuleExecution,
    facts: Facts,
    earlier: ActionOutcome[] = [],
  ): Promise<ActionOutcome[]> {
    // What the actions cause carries the chain's depth, so a rule reacting to itself stops.
    const caused = (event: DomainEventInput): DomainEventInput => ({
      ...event,
      depth: execution.depth + 1,
      causationId: execution.id,
    });
    const within: UnitOfWork = {
      ...uow,
      record: (event) => uow.record(caused(event)),
      recordAll: (events) => uow.recordAll(events.map(caused)),
    };
    // Rule actions are recorded as the tenant's Automation user, named after the rule (read once per execution).
    let principal: Promise<StaffPrincipal> | undefined;
    const actor = () => (principal ??= automationActor(uow.manager, rule.tenantId, `Automation: ${rule.name}`));
    const outcomes: ActionOutcome[] = [];
    let stopped = false;
    for (const [index, action] of rule.actions.entries()) {
      // On a retry, what succeeded stays as it was.
      const done = earlier.find((outcome) => outcome.index === index && outcome.status === 'succeeded');
      if (done) {
        outcomes.push(done);
        continue;
      }
      const outcome: ActionOutcome = {
        index,
        type: String(action.type),
        status: 'skipped',
        error: null,
        deliveryIds: [],
        detail: null,
      };
      outcomes.push(outcome);
      if (stopped) {
        outcome.detail = 'Not run: an earlier action failed and the rule stops on failure';
        continue;
      }
      await uow.manager.query('SAVEPOINT rule_action');
      try {
        const { module, params } = parseAction(action);
        const run: ActionRun = { uow: within, rule, execution, index, facts, services: this.services, actor };
        const result = await module.perform(run, params);
        outcome.detail = result.detail;
        outcome.deliveryIds = result.deliveryIds ?? [];
        outcome.status = 'succeeded';
        await uow.manager.query('RELEASE SAVEPOINT rule_action');
      } catch (error) {
        if (!isActionFailure(error)) throw error;
        await uow.manager.query('ROLLBACK TO SAVEPOINT rule_action');
        outcome.status = 'failed';
        outcome.deliveryIds = [];
        outcome.error = (error as Error).message.slice(0, 1000);
        stopped = rule.stopOnFailure;
      }
    }
    return outcomes;
  }

  private async finishActed(
    manager: EntityManager,
    rule: AutomationRule,
    execution: RuleExecution,
    outcomes: ActionOutcome[],
    now: Date,
    insert: boolean,
  ): Promise<ExecutionResult> {
    const { status, reason } = verdict(outcomes);
    const failed = status === RuleExecutionStatus.FAILED;
    await manager.query(
      `UPDATE automation_rule SET "executionCount" = "executionCount" + 1, "successCount" = "successCount" + $2,
              "failureCount" = "failureCount" + $3, "lastExecutedAt" = $4 WHERE id = $1`,
      [rule.id, failed ? 0 : 1, failed ? 1 : 0, now],
    );
    return this.finish(manager, execution, status, reason, outcomes, now, insert);
  }

  private async finish(
    manager: EntityManager,
    execution: RuleExecution,
    status: RuleExecutionStatus,
    reason: string | null,
    outcomes: ActionOutcome[],
    now: Date,
    insert = true,
  ): Promise<ExecutionResult> {
    Object.assign(execution, { status, reason, actionOutcomes: outcomes, finishedAt: now });
    if (insert) await insertExecution(manager, execution);
    else await manager.update(RuleExecution, { id: execution.id }, { status, reason, actionOutcomes: outcomes, finishedAt: now });
    return { execution, fresh: true };
  }

  /** The messages an execution queued, for dry runs. */
  static deliveriesOf(manager: EntityManager, executionId: string): Promise<Delivery[]> {
    return manager.find(Delivery, { where: { ruleExecutionId: executionId }, order: { createdAt: 'ASC' } });
  }
}

/**
 * A failure that belongs to the action (bad data, missing address, a refused transition)
 * is recorded and the rule goes on; a lost connection or a serialization failure is the
 * transaction's, and is thrown for the relay to retry.
 */
function isActionFailure(error: unknown): boolean {
  if (error instanceof DomainError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return !(code.startsWith('40') || code.startsWith('08') || code.startsWith('57') || code.startsWith('53'));
}

/** TypeORM's insert types do not take JSON columns typed as records; the rows are whole. */
function insertExecutions(manager: EntityManager, executions: RuleExecution[]) {
  if (!executions.length) return Promise.resolve();
  const rows = executions.map(({ rule: _rule, tenant: _tenant, ...row }) => row);
  return manager.insert(RuleExecution, rows as never);
}

function insertExecution(manager: EntityManager, execution: RuleExecution) {
  return insertExecutions(manager, [execution]);
}

/** An execution's status and reason from its actions' outcomes. */
function verdict(outcomes: ActionOutcome[]): { status: RuleExecutionStatus; reason: string | null } {
  const failed = outcomes.filter((outcome) => outcome.status === 'failed');
  if (!failed.length) return { status: RuleExecutionStatus.SUCCEEDED, reason: null };
  return {
    status: RuleExecutionStatus.FAILED,
    reason: `${failed.length} of ${outcomes.length} actions failed: ${failed[0].error}`,
  };
}

/** The event an execution was started by, as far as it kept it (for loading its facts again). */
function eventOf(execution: RuleExecution): DomainEvent | null {
  if (!execution.eventType) return null;
  return {
    id: execution.eventId,
    type: execution.eventType,
    occurredAt: execution.createdAt,
    source: 'internal',
    payload: execution.context.eventPayload ?? {},
  } as DomainEvent;
}
