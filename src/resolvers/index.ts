import { AuthResolver } from './auth.resolver';
import { DashboardResolver } from './dashboard.resolver';
import {
  ChannelProviderResolver,
  DeliveryResolver,
  EmergencyAlertResolver,
  MessagingResolver,
  MetaTemplateResolver,
} from './delivery.resolver';
import { ContactResolver, TenantResolver, UserResolver } from './directory.resolver';
import { EscalationResolver, SlaResolver } from './escalation.resolver';
import { EventResolver } from './event.resolver';
import { IngestionResolver } from './ingestion.resolver';
import { JobResolver } from './job.resolver';
import { StaffNotificationResolver } from './notification.resolver';
import { CampaignResolver, CampaignStatsResolver, SegmentResolver } from './campaign.resolver';
import { CompletionResolver } from './completion.resolver';
import { ReportResolver } from './report.resolver';
import { AutomationRuleResolver, RuleExecutionResolver } from './rule.resolver';
import { BusinessRecordResolver, ContactRecordsResolver, UserRecordsResolver } from './record.resolver';
import { TicketMessageResolver, TicketResolver } from './ticket.resolver';
import { FileResolver } from './file.resolver';

export const RESOLVERS = [
  AuthResolver,
  UserResolver,
  ContactResolver,
  TicketResolver,
  TicketMessageResolver,
  FileResolver,
  DashboardResolver,
  DeliveryResolver,
  EmergencyAlertResolver,
  ChannelProviderResolver,
  MessagingResolver,
  MetaTemplateResolver,
  SlaResolver,
  EscalationResolver,
  JobResolver,
  EventResolver,
  IngestionResolver,
  TenantResolver,
  BusinessRecordResolver,
  ContactRecordsResolver,
  UserRecordsResolver,
  AutomationRuleResolver,
  RuleExecutionResolver,
  ReportResolver,
  CompletionResolver,
  CampaignResolver,
  CampaignStatsResolver,
  SegmentResolver,
  StaffNotificationResolver,
] as const;
