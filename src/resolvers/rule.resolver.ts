import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { AutomationRule } from '../entities/automation-rule.entity';
import { RuleExecution } from '../entities/rule-execution.entity';
import { Role } from '../entities/user.entity';
import { pageInfo, splitPage } from '../schema/connection';
import type { AuthedContext } from '../schema/context';
import {
  AutomationRuleConnection,
  AutomationRuleInput,
  AutomationRuleStats,
  AutomationRulesArgs,
  RuleActionOutcome,
  RuleExecutionConnection,
  RuleExecutionsArgs,
  RuleSubjectInput,
  RuleRetryResult,
  RuleTestResult,
  SampleEventInput,
} from '../schema/rule.types';
import { requireStaff } from '../services/directory/principal';
import { assertPeriod, badInput } from '../services/platform/errors';
import { DeliveryConnection } from '../schema/delivery.types';
import { deliveryConnection } from './delivery.resolver';
import { PageArgs } from '../schema/connection';
import { RuleCatalog } from '../schema/rule-catalog.types';

/** Admins and managers write rules; supervisors read them. */
const WRITERS = [Role.ADMIN, Role.MANAGER];
const READERS = [Role.ADMIN, Role.MANAGER, Role.SUPERVISOR];

@Resolver(() => AutomationRule)
export class AutomationRuleResolver {
  @Authorized(...READERS)
  @Query(() => AutomationRuleConnection, { description: 'Automation rules of the tenant, newest first.' })
  async automationRules(
    @Args() args: AutomationRulesArgs,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<AutomationRuleConnection> {
    const [request, filter] = splitPage(args);
    const page = await services.rules.list(requireStaff(principal), filter, request);
    return { ...page, pageInfo: pageInfo(page) };
  }

  @Authorized(...READERS)
  @Query(() => AutomationRule, {
    nullable: true,
    description: 'One automation rule. Null, with a NOT_FOUND error, when there is none: the rest of the answer stays.',
  })
  automationRule(@Arg('id', () => ID, { description: 'Rule id.' }) id: string, @Ctx() { principal, services }: AuthedContext) {
    return services.rules.get(requireStaff(principal), id);
  }

  @Authorized(...READERS)
  @Query(() => RuleCatalog, {
    description:
      "What a rule builder can offer: event types (internal and the tenant's own), the paths conditions test with their types and operators, and each action's parameters as JSON Schema.",
  })
  ruleCatalog(@Ctx() { principal, services }: AuthedContext) {
    return services.rules.catalog(requireStaff(principal));
  }

  @Authorized(...WRITERS)
  @Mutation(() => AutomationRule, {
    description: 'Creates a rule, checked whole: a problem answers BAD_USER_INPUT naming its place.',
  })
  createAutomationRule(
    @Arg('input', () => AutomationRuleInput, { description: 'The rule.' }) input: AutomationRuleInput,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.rules.create(requireStaff(principal), input);
  }

  @Authorized(...WRITERS)
  @Mutation(() => AutomationRule, { description: 'Replaces a rule’s definition, checked whole.' })
  updateAutomationRule(
    @Arg('id', () => ID, { description: 'Rule id.' }) id: string,
    @Arg('input', () => AutomationRuleInput, { description: 'The new definition.' }) input: AutomationRuleInput,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.rules.update(requireStaff(principal), id, input);
  }

  @Authorized(...WRITERS)
  @Mutation(() => AutomationRule, {
    description: 'Switches a rule on or off; an inactive rule never fires, not even from a waiting delay.',
  })
  setAutomationRuleActive(
    @Arg('id', () => ID, { description: 'Rule id.' }) id: string,
    @Arg('active', { description: 'On or off.' }) active: boolean,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.rules.setActive(requireStaff(principal), id, active);
  }

  @Authorized(...WRITERS)
  @Mutation(() => Boolean, { description: 'Deletes a rule; its history stays, its waiting delays are skipped.' })
  deleteAutomationRule(
    @Arg('id', () => ID, { description: 'Rule id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.rules.delete(requireStaff(principal), id);
  }

  @Authorized(...WRITERS)
  @Mutation(() => AutomationRule, { description: 'Copies a rule, inactive, named "... (copy)".' })
  duplicateAutomationRule(
    @Arg('id', () => ID, { description: 'Rule id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.rules.duplicate(requireStaff(principal), id);
  }

  @Authorized(...WRITERS)
  @Mutation(() => RuleExecution, { description: 'Runs a rule now for a subject; its conditions and limits apply.' })
  runAutomationRule(
    @Arg('id', () => ID, { description: 'Rule id.' }) id: string,
    @Arg('subject', () => RuleSubjectInput, { description: 'What it runs for.' }) subject: RuleSubjectInput,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.ruleRuns.runManually(requireStaff(principal), id, subject);
  }

  @Authorized(...WRITERS)
  @Mutation(() => RuleExecution, {
    description:
      'Runs a FAILED execution again: its failed and not-run actions only, with the rule as it is now (actions that succeeded are not repeated; messages keep their idempotency keys, so nothing is sent twice). INVALID_TRANSITION for an execution that is not FAILED.',
  })
  retryRuleExecution(
    @Arg('id', () => ID, { description: 'Execution id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.ruleRuns.retry(requireStaff(principal), id);
  }

  @Authorized(...WRITERS)
  @Mutation(() => RuleRetryResult, {
    description: "Retries a rule's FAILED executions created in [from, to), oldest first, at most 1,000 a call.",
  })
  retryFailedRuleExecutions(
    @Arg('ruleId', () => ID, { description: 'Rule id.' }) ruleId: string,
    @Arg('from', () => Date, { description: 'Start (inclusive).' }) from: Date,
    @Arg('to', () => Date, { description: 'End (exclusive).' }) to: Date,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    return services.ruleRuns.retryFailed(requireStaff(principal), ruleId, from, to);
  }

  @Authorized(...READERS)
  @Mutation(() => RuleTestResult, {
    description:
      'A dry run of a saved rule (id) or a draft (rule) against a sample event: whether it matches, why not, and the messages it would send to whom. Nothing is written or sent.',
  })
  async testAutomationRule(
    @Arg('event', () => SampleEventInput, { description: 'The sample event.' }) event: SampleEventInput,
    @Ctx() { principal, services }: AuthedContext,
    @Arg('id', () => ID, { nullable: true, description: 'A saved rule.' }) id?: string,
    @Arg('rule', () => AutomationRuleInput, { nullable: true, description: 'A draft rule.' }) rule?: AutomationRuleInput,
  ): Promise<RuleTestResult> {
    const actor = requireStaff(principal);
    if (!id === !rule) throw badInput('Give either the id of a saved rule or a draft rule', 'id');
    return services.ruleDryRuns.run(actor, id ? await services.rules.get(actor, id) : rule!, {
      type: event.type,
      subjectType: event.subject?.type ?? null,
      subjectId: event.subject?.id ?? null,
      payload: event.payload ?? null,
    });
  }

  @Authorized(...READERS)
  @Query(() => RuleExecutionConnection, {
    description: 'What rules did, newest first: skipped (why), delayed, succeeded, failed.',
  })
  async ruleExecutions(
    @Args() args: RuleExecutionsArgs,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<RuleExecutionConnection> {
    const [request, filter] = splitPage(args);
    const page = await services.rules.executions(requireStaff(principal), filter, request);
    return { ...page, pageInfo: pageInfo(page) };
  }

  @Authorized(...READERS)
  @Query(() => [AutomationRuleStats], { description: 'Per rule over [from, to): executions by outcome and messages queued.' })
  automationRuleStats(
    @Arg('from', () => Date, { description: 'Start (inclusive).' }) from: Date,
    @Arg('to', () => Date, { description: 'End (exclusive).' }) to: Date,
    @Ctx() { principal, services }: AuthedContext,
  ) {
    assertPeriod(from, to);
    return services.rules.stats(requireStaff(principal), from, to);
  }
}

@Resolver(() => RuleExecution)
export class RuleExecutionResolver {
  @FieldResolver(() => [RuleActionOutcome], { description: 'Each action’s outcome.' })
  actions(@Root() execution: RuleExecution): RuleActionOutcome[] {
    return execution.actionOutcomes;
  }

  @FieldResolver(() => DeliveryConnection, { description: 'The messages it queued, newest first.' })
  deliveries(
    @Root() execution: RuleExecution,
    @Args() args: PageArgs,
    @Ctx() context: AuthedContext,
  ): Promise<DeliveryConnection> {
    const ids = execution.actionOutcomes.flatMap((outcome) => outcome.deliveryIds);
    return deliveryConnection(context, { ids }, args);
  }
}
