import { z } from 'zod';
import { ReportKind, ReportPeriod, ReportService } from '../../reports/report.service';
import { defineAction, oneOf } from './action';
import { checkMessage, delivery, sendMessage } from './messaging';

export const sendReportAction = defineAction({
  type: 'send_report',
  summary: 'Send a report for a period (each recipient gets their own figures where the report has them)',
  schema: z.strictObject({
    type: z.literal('send_report'),
    report: oneOf(Object.values(ReportKind)),
    period: oneOf(Object.values(ReportPeriod)),
    ...delivery,
  }),
  // The text is the report's; the channels are checked like a message's.
  check: (params, at, _templates, problem) => checkMessage({ ...params, text: 'report' }, at, null, problem),
  async perform(run, params) {
    const { execution, rule, facts } = run;
    // A schedule's report covers the period as of its occurrence, even when a worker runs it late.
    const scheduled = execution.context.scheduledFor;
    const asOf = typeof scheduled === 'string' ? new Date(scheduled) : run.services.clock.now();
    const period = ReportService.period(params.period, asOf, facts.tenant.timezone);
    const reports = run.services.reports;
    const figures = await reports.figures(run.uow.manager, rule.tenantId, params.report, period.from, period.to);
    const deliveryIds = await sendMessage(run, params, (target) => reports.text(figures, facts.tenant.timezone, target.user?.id));
    return { detail: `${params.report} for ${params.period} sent to ${deliveryIds.length} recipient(s)`, deliveryIds };
  },
});
