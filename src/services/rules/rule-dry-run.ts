import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AutomationRule, RuleTriggerType } from '../../entities/automation-rule.entity';
import { type Channel, DeliveryStatus } from '../../entities/channel';
import type { DomainEvent } from '../../entities/domain-event.entity';
import { type ActionOutcome, RuleExecutionStatus } from '../../entities/rule-execution.entity';
import type { StaffPrincipal } from '../directory/principal';
import type { Clock } from '../platform/clock';
import type { Transactor } from '../platform/unit-of-work';
import { type Facts, idsOf, loadFacts } from './facts';
import type { RuleInput } from './rule-definition';
import { RuleEngine } from './rule-engine';
import type { RuleService } from './rule.service';
import { eventMatches, occurrenceOf, subjectIds } from './rule-subjects';

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

/** Rolls a dry run back once its result is read. */
class DryRunDone extends Error {
  constructor(readonly result: DryRunResult) {
    super('dry run');
  }
}

/** Dry runs of a saved or unsaved rule against a sample event (testAutomationRule). */
export class RuleDryRun {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly rules: RuleService,
    private readonly engine: RuleEngine,
    private readonly clock: Clock,
  ) {}

  /**
   * A dry run: whether the rule matches the sample, why not, and what its actions would
   * do, with the messages rendered to whom. It runs the real path in a transaction that
   * is rolled back, so nothing is written, queued or published.
   */
  async run(actor: StaffPrincipal, rule: AutomationRule | RuleInput, sample: SampleEvent): Promise<DryRunResult> {
    if (!('id' in rule)) await this.rules.check(actor.tenantId, rule);
    const ids =
      sample.subjectType && sample.subjectId
        ? await subjectIds(this.dataSource, actor.tenantId, { type: sample.subjectType, id: sample.subjectId })
        : {};
    const candidate = Object.assign(new AutomationRule(), {
      executionCount: 0,
      successCount: 0,
      failureCount: 0,
      ...('id' in rule ? rule : this.rules.columns(rule)),
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
        const { facts, ids: loaded } = await loadFacts(uow.manager, actor.tenantId, { ...idsOf(event), ...ids }, event);
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
}

function plainFacts(facts: Facts): Record<string, unknown> {
  return JSON.parse(JSON.stringify(facts)) as Record<string, unknown>;
}
