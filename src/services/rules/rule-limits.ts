import type { EntityManager } from 'typeorm';
import type { AutomationRule } from '../../entities/automation-rule.entity';
import type { RuleExecution } from '../../entities/rule-execution.entity';

/** A rule acting on what its own actions caused stops at this depth (a loop). */
export const MAX_RULE_DEPTH = 3;

/** Why the rule may not act on this occurrence now, or null. */
export async function refusal(
  manager: EntityManager,
  rule: AutomationRule,
  execution: RuleExecution,
  now: Date,
): Promise<string | null> {
  if (execution.depth >= MAX_RULE_DEPTH) {
    return `Stopped: this event was caused by ${execution.depth} rule actions in a row (limit ${MAX_RULE_DEPTH}); the rules loop`;
  }
  if (rule.validFrom && now < rule.validFrom) return `Not valid before ${rule.validFrom.toISOString()}`;
  if (rule.validUntil && now >= rule.validUntil) return `Not valid after ${rule.validUntil.toISOString()}`;
  if (rule.maxExecutions != null) {
    // Read under the rule's lock: the rule object may come from a cache, and two processes may act at once.
    const [counted] = (await manager.query(`SELECT "executionCount" FROM automation_rule WHERE id = $1 FOR UPDATE`, [
      rule.id,
    ])) as Array<{ executionCount: number }>;
    if ((counted?.executionCount ?? 0) >= rule.maxExecutions) return `Reached its limit of ${rule.maxExecutions} executions`;
  }
  if (!execution.subjectKey || (rule.maxExecutionsPerSubject == null && rule.cooldownMinutes == null)) return null;
  const [row] = (await manager.query(
    `SELECT count(*)::int AS total, max("createdAt") AS latest FROM rule_execution
      WHERE "ruleId" = $1 AND "subjectKey" = $2 AND status IN ('delayed', 'succeeded', 'failed')`,
    [rule.id, execution.subjectKey],
  )) as Array<{ total: number; latest: Date | null }>;
  if (rule.maxExecutionsPerSubject != null && row.total >= rule.maxExecutionsPerSubject) {
    return `Reached its limit of ${rule.maxExecutionsPerSubject} executions for this ${execution.subjectType}`;
  }
  if (
    rule.cooldownMinutes != null &&
    row.latest &&
    now.getTime() - new Date(row.latest).getTime() < rule.cooldownMinutes * 60_000
  ) {
    return `Cooling down: it acted for this ${execution.subjectType} less than ${rule.cooldownMinutes} minutes ago`;
  }
  return null;
}
