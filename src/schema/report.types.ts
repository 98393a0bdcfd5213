import { registerEnumType } from 'type-graphql';
import { ReportKind, ReportPeriod } from '../services/reports/report.service';

registerEnumType(ReportKind, {
  name: 'ReportKind',
  description: 'A report staff receive.',
  valuesConfig: {
    DAILY_SUMMARY: { description: 'Tickets opened and resolved, SLA compliance, open and overdue work, per person.' },
    TECHNICIAN_PERFORMANCE: {
      description: 'Per technician: tickets resolved, resolution time, rating, rank; each receives their own.',
    },
  },
});

registerEnumType(ReportPeriod, {
  name: 'ReportPeriod',
  description: "What a report covers, in the tenant's time zone.",
  valuesConfig: {
    TODAY: { description: 'Today so far.' },
    YESTERDAY: { description: 'Yesterday.' },
    THIS_WEEK: { description: 'This week (from Monday) so far.' },
    LAST_WEEK: { description: 'Last week, Monday to Sunday.' },
  },
});

export { ReportKind, ReportPeriod };
