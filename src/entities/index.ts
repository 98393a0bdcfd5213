import { ChannelProvider } from './channel-provider.entity';
import { Contact } from './contact.entity';
import { DeliveryEvent } from './delivery-event.entity';
import { Delivery } from './delivery.entity';
import { MessageTemplate } from './message-template.entity';
import { DomainEvent } from './domain-event.entity';
import { Tenant } from './tenant.entity';
import { TicketMessage } from './ticket-message.entity';
import { Ticket } from './ticket.entity';
import { User } from './user.entity';
import { SlaPolicy } from './sla-policy.entity';
import { EscalationPolicy } from './escalation-policy.entity';
import { Escalation } from './escalation.entity';
import { JobRun } from './job-run.entity';
import { JobState } from './job-state.entity';
import { EventHandling } from './event-handling.entity';
import { ApiKey } from './api-key.entity';
import { BusinessRecord } from './business-record.entity';
import { AutomationRule } from './automation-rule.entity';
import { RuleExecution } from './rule-execution.entity';
import { CompletionContactAttempt, CompletionRequest, Review } from './completion-request.entity';
import { CampaignRecipient } from './campaign-recipient.entity';
import { CampaignRun } from './campaign-run.entity';
import { Campaign } from './campaign.entity';
import { ConsentChange } from './consent-change.entity';
import { Segment } from './segment.entity';
import { ProviderPace } from './provider-pace.entity';
import { StaffNotification } from './staff-notification.entity';
import { IdempotentRequest } from './idempotent-request.entity';
import { ServiceWindow } from './service-window.entity';
import { StoredFile } from './stored-file.entity';
import { MetaTemplate } from './meta-template.entity';

export const ENTITIES = [
  Tenant,
  User,
  Contact,
  Ticket,
  TicketMessage,
  DomainEvent,
  ChannelProvider,
  MessageTemplate,
  Delivery,
  DeliveryEvent,
  SlaPolicy,
  EscalationPolicy,
  Escalation,
  JobRun,
  JobState,
  EventHandling,
  ApiKey,
  BusinessRecord,
  AutomationRule,
  RuleExecution,
  CompletionRequest,
  CompletionContactAttempt,
  Segment,
  Campaign,
  CampaignRun,
  CampaignRecipient,
  ConsentChange,
  ProviderPace,
  Review,
  ServiceWindow,
  StoredFile,
  MetaTemplate,
  StaffNotification,
  IdempotentRequest,
];
