import type { DataSource } from 'typeorm';
import { createAdapters } from '../channels';
import { AddressGuard } from '../channels/address-guard';
import { PostgresSlots, SharedRateLimiter } from '../channels/shared-rate-limiter';
import { IdempotentRequests } from './platform/idempotent-requests';
import type { DeliverySettings, EventSettings } from '../config';
import { type Logger, silentLogger } from '../logger';
import { AuthService, type AuthSettings } from './directory/auth.service';
import { ChannelProviderService } from './delivery/channel-provider.service';
import type { Clock } from './platform/clock';
import { DashboardService } from './tickets/dashboard.service';
import { DeliveryHistory } from './delivery/delivery-history';
import { ApiKeyService } from './events/api-key.service';
import { EventConsumerRegistry } from './events/event-consumers';
import { EventIngestionService } from './events/event-ingestion.service';
import { EventRelayService } from './events/event-relay.service';
import { DeliveryService } from './delivery/delivery.service';
import { DirectoryService } from './directory/directory.service';
import { PeopleImportService } from './directory/people-import.service';
import { RecordService } from './records/record.service';
import { ReportService } from './reports/report.service';
import { StaffNotificationService } from './notifications/staff-notification.service';
import { CompletionService, type CompletionSettings } from './completions/completion.service';
import { AudienceService } from './campaigns/audience.service';
import { CampaignSender } from './campaigns/campaign-sender';
import { CampaignService } from './campaigns/campaign.service';
import { ConsentService } from './campaigns/consent.service';
import { RuleEngine } from './rules/rule-engine';
import { RuleService } from './rules/rule.service';
import { RuleRunner } from './rules/rule-runner';
import { RuleDryRun } from './rules/rule-dry-run';
import { DispatchService } from './delivery/dispatch.service';
import { EscalationService } from './escalation/escalation.service';
import { JobService, type JobSettings } from './scheduling/job.service';
import { InboundService } from './delivery/inbound.service';
import { ServiceWindowService } from './delivery/service-window';
import type { LiveEvents } from './platform/live-events';
import { MessagingService } from './delivery/messaging.service';
import { MetaTemplateService } from './delivery/meta-templates';
import { MetaTemplateApi } from '../channels/meta-templates';
import { MetaMediaApi } from '../channels/meta-media';
import { SecretBox } from './platform/secret-box';
import { SlaService } from './escalation/sla.service';
import { TenantSetupService } from './directory/tenant-setup.service';
import { TicketService } from './tickets/ticket.service';
import { Transactor } from './platform/unit-of-work';
import { FileService, type FileServiceSettings } from './files/file.service';

/** Every domain service, wired once per process and handed to resolvers through the context. */
export interface Services {
  clock: Clock;
  live: LiveEvents;
  auth: AuthService;
  directory: DirectoryService;
  peopleImport: PeopleImportService;
  records: RecordService;
  rules: RuleService;
  ruleRuns: RuleRunner;
  ruleDryRuns: RuleDryRun;
  reports: ReportService;
  completions: CompletionService;
  audiences: AudienceService;
  campaigns: CampaignService;
  campaignSender: CampaignSender;
  consent: ConsentService;
  notifications: StaffNotificationService;
  tickets: TicketService;
  dashboard: DashboardService;
  tenantSetup: TenantSetupService;
  providers: ChannelProviderService;
  /** Provider pacing shared by the workers; tests watch the slots it hands out. */
  pacer: SharedRateLimiter;
  deliveries: DeliveryService;
  /** Meta's 24-hour customer-service windows: opened by customers' messages, read by the dispatcher and tickets. */
  serviceWindows: ServiceWindowService;
  /** WhatsApp Business Accounts' message templates: synced with Meta, submitted to it, kept current by its webhook. */
  metaTemplates: MetaTemplateService;
  dispatch: DispatchService;
  messaging: MessagingService;
  inbound: InboundService;
  sla: SlaService;
  escalations: EscalationService;
  jobs: JobService;
  /** Where features register what they do with domain events. */
  eventConsumers: EventConsumerRegistry;
  events: EventRelayService;
  apiKeys: ApiKeyService;
  ingestion: EventIngestionService;
  /** Requests made with an idempotency key: once each, answered the same on a retry. */
  requests: IdempotentRequests;
  /** Uploaded and received files, their checks, attachment and signed links. */
  files: FileService;
}

export interface ServiceSettings {
  auth: AuthSettings;
  credentialsKey: string;
  delivery: DeliverySettings;
  jobs: JobSettings;
  slaWarningCooldownMinutes: number;
  events: EventSettings;
  completions: CompletionSettings;
  campaigns: { batchSize: number };
  files: Omit<FileServiceSettings, 'publicUrl'>;
  logger?: Logger;
  /** Provider pacing shared by the workers; PostgreSQL's by default (app.ts passes Redis's with REDIS_URL). */
  pacer?: SharedRateLimiter;
}

export function createServices(dataSource: DataSource, live: LiveEvents, clock: Clock, settings: ServiceSettings): Services {
  const transactor = new Transactor(dataSource, clock);
  const delivery = settings.delivery;
  // One guard for every outbound connection and for the addresses checked when they are saved.
  const guard = new AddressGuard(delivery.allowedAddresses);
  const providers = new ChannelProviderService(dataSource, new SecretBox(settings.credentialsKey), clock, guard, {
    failureThreshold: delivery.circuitFailureThreshold,
    cooldownMs: delivery.circuitCooldownMs,
    probeHoldMs: delivery.sendTimeoutMs + 1000,
  });
  const history = new DeliveryHistory(dataSource, live, clock);
  const serviceWindows = new ServiceWindowService(dataSource, providers, clock);
  const eventConsumers = new EventConsumerRegistry();
  const pacer = settings.pacer ?? new SharedRateLimiter(new PostgresSlots(dataSource));
  const deliveries = new DeliveryService(dataSource, transactor, history, clock, guard, {
    maxAttempts: delivery.retries + 1,
    defaultValidityMinutes: delivery.defaultValidityMinutes,
  });
  const adapters = createAdapters({ sendTimeoutMs: delivery.sendTimeoutMs, guard });
  const sla = new SlaService(dataSource, transactor, deliveries, clock, settings.slaWarningCooldownMinutes);
  const files = new FileService(dataSource, clock, { ...settings.files, publicUrl: settings.completions.publicUrl });
  const tickets = new TicketService(dataSource, transactor, live, clock, sla, deliveries, serviceWindows, files);
  const records = new RecordService(dataSource, transactor, clock);
  const completions = new CompletionService(
    dataSource,
    transactor,
    deliveries,
    tickets,
    live,
    clock,
    settings.completions,
    files,
  );
  const escalations = new EscalationService(dataSource, transactor, deliveries, clock);
  const notifications = new StaffNotificationService(dataSource, live, clock);
  const reports = new ReportService(dataSource, deliveries, clock);
  const rules = new RuleService(dataSource, clock);
  const engine = new RuleEngine({ deliveries, tickets, escalations, reports, notifications, clock });
  const ruleRuns = new RuleRunner(dataSource, transactor, rules, engine, clock);
  const ruleDryRuns = new RuleDryRun(dataSource, transactor, rules, engine, clock);
  eventConsumers.register(ruleRuns.consumer);
  eventConsumers.register(escalations.consumer);
  const audiences = new AudienceService(dataSource, clock);
  const campaigns = new CampaignService(dataSource, transactor, audiences, deliveries, history, live, clock);
  const messaging = new MessagingService(dataSource, transactor, deliveries, providers, adapters, files);
  const metaTemplates = new MetaTemplateService(
    dataSource,
    transactor,
    providers,
    messaging,
    new MetaTemplateApi({ sendTimeoutMs: delivery.sendTimeoutMs, guard }),
    notifications,
    clock,
  );
  const consent = new ConsentService(dataSource, transactor, deliveries, history, clock);
  return {
    clock,
    live,
    auth: new AuthService(dataSource, settings.auth, clock),
    directory: new DirectoryService(dataSource, transactor, clock),
    peopleImport: new PeopleImportService(transactor, clock),
    records,
    rules,
    ruleRuns,
    ruleDryRuns,
    reports,
    completions,
    files,
    audiences,
    campaigns,
    campaignSender: new CampaignSender(dataSource, transactor, history, campaigns, audiences, clock, {
      batchSize: settings.campaigns.batchSize,
      maxAttempts: delivery.retries + 1,
      publicUrl: settings.completions.publicUrl,
      defaultValidityMinutes: delivery.defaultValidityMinutes,
    }),
    consent,
    notifications,
    tickets,
    dashboard: new DashboardService(dataSource),
    tenantSetup: new TenantSetupService(dataSource, tickets),
    providers,
    pacer,
    deliveries,
    serviceWindows,
    dispatch: new DispatchService(
      dataSource,
      history,
      providers,
      serviceWindows,
      metaTemplates,
      adapters,
      pacer,
      clock,
      {
        batchSize: delivery.batchSize,
        leaseMs: delivery.leaseMs,
        backoffBaseMs: delivery.backoffBaseMs,
        concurrency: delivery.concurrency,
        providerMaxInFlight: delivery.providerMaxInFlight,
        busyRetryMs: 1000,
        throttlePauseMs: delivery.circuitCooldownMs,
        providerSlowMs: delivery.providerSlowMs,
      },
      files,
    ),
    messaging,
    metaTemplates,
    inbound: new InboundService(
      dataSource,
      deliveries,
      providers,
      serviceWindows,
      tickets,
      completions,
      consent,
      new MetaMediaApi({ sendTimeoutMs: delivery.sendTimeoutMs, guard }),
      settings.files.maxBytes,
    ),
    sla,
    escalations,
    eventConsumers,
    apiKeys: new ApiKeyService(dataSource, clock),
    ingestion: new EventIngestionService(transactor, records, clock),
    requests: new IdempotentRequests(dataSource, transactor, clock),
    events: new EventRelayService(dataSource, transactor, eventConsumers, clock, {
      batchSize: settings.events.batchSize,
      maxAttempts: settings.events.maxAttempts,
      backoffBaseMs: settings.events.backoffBaseMs,
      retentionMs: settings.events.retentionDays * 24 * 3_600_000,
    }),
    jobs: new JobService(dataSource, transactor, deliveries, clock, settings.jobs, settings.logger ?? silentLogger),
  };
}
