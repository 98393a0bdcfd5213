import { Initial1795319419695 } from './1795319419695-Initial';
import { Deliveries1795321121250 } from './1795321121250-Deliveries';
import { EmergencyGroups1795321861016 } from './1795321861016-EmergencyGroups';
import { InboundMessages1795322150149 } from './1795322150149-InboundMessages';
import { SlaEscalations1795324570621 } from './1795324570621-SlaEscalations';
import { AgendaJobs1795324570622 } from './1795324570622-AgendaJobs';
import { PlatformAdminsAndInboundIdentity1795400000000 } from './1795400000000-PlatformAdminsAndInboundIdentity';
import { DeliveryReportsOnce1795400000001 } from './1795400000001-DeliveryReportsOnce';
import { EventHandling1795461325227 } from './1795461325227-EventHandling';
import { LiveEventPayloads1795461325228 } from './1795461325228-LiveEventPayloads';
import { ApiKeysAndBusinessEvents1795462165622 } from './1795462165622-ApiKeysAndBusinessEvents';
import { BusinessRecordsAndPeopleFields1795466345980 } from './1795466345980-BusinessRecordsAndPeopleFields';
import { AutomationRules1795468462525 } from './1795468462525-AutomationRules';
import { NotificationPackV11795468462526 } from './1795468462526-NotificationPackV1';
import { CompletionRequests1795470736368 } from './1795470736368-CompletionRequests';
import { TicketOperations1795471148918 } from './1795471148918-TicketOperations';
import { StaffNotifications1795472749323 } from './1795472749323-StaffNotifications';
import { RuleCacheVersion1795475779119 } from './1795475779119-RuleCacheVersion';
import { Campaigns1795476725682 } from './1795476725682-Campaigns';
import { SharedProviderPace1795477525506 } from './1795477525506-SharedProviderPace';
import { LeanerIndexes1795478531590 } from './1795478531590-LeanerIndexes';
import { PrincipalChangeNotices1795480000000 } from './1795480000000-PrincipalChangeNotices';
import { OverdueRecords1795487013966 } from './1795487013966-OverdueRecords';
import { CustomerTicketChoices1795488233149 } from './1795488233149-CustomerTicketChoices';
import { IdempotentRequests1795490000000 } from './1795490000000-IdempotentRequests';
import { DeliveryValidityAndFallbacks1795490000001 } from './1795490000001-DeliveryValidityAndFallbacks';
import { NotificationPackV21795490000002 } from './1795490000002-NotificationPackV2';
import { CampaignRecipientAddressKey1795490000003 } from './1795490000003-CampaignRecipientAddressKey';
import { CompletionClosingNote1795490000004 } from './1795490000004-CompletionClosingNote';
import { RuleExecutionAttempts1795490000005 } from './1795490000005-RuleExecutionAttempts';
import { ServiceWindow1795490000006 } from './1795490000006-ServiceWindow';
import { MetaTemplates1795490000007 } from './1795490000007-MetaTemplates';
import { DeliverySubjectIndexes1795490000008 } from './1795490000008-DeliverySubjectIndexes';
import { StoredFiles1795490000009 } from './1795490000009-StoredFiles';
import { DeliveryAttachment1795490000010 } from './1795490000010-DeliveryAttachment';
import { DeliverySentBy1795490000011 } from './1795490000011-DeliverySentBy';
import { CampaignEnd1795490000012 } from './1795490000012-CampaignEnd';

/** Every migration, in order. New migrations are generated with `npm run migration:generate` and added here. */
export const MIGRATIONS = [
  Initial1795319419695,
  Deliveries1795321121250,
  EmergencyGroups1795321861016,
  InboundMessages1795322150149,
  SlaEscalations1795324570621,
  AgendaJobs1795324570622,
  PlatformAdminsAndInboundIdentity1795400000000,
  DeliveryReportsOnce1795400000001,
  EventHandling1795461325227,
  LiveEventPayloads1795461325228,
  ApiKeysAndBusinessEvents1795462165622,
  BusinessRecordsAndPeopleFields1795466345980,
  AutomationRules1795468462525,
  NotificationPackV11795468462526,
  CompletionRequests1795470736368,
  TicketOperations1795471148918,
  StaffNotifications1795472749323,
  RuleCacheVersion1795475779119,
  Campaigns1795476725682,
  SharedProviderPace1795477525506,
  LeanerIndexes1795478531590,
  PrincipalChangeNotices1795480000000,
  OverdueRecords1795487013966,
  CustomerTicketChoices1795488233149,
  IdempotentRequests1795490000000,
  DeliveryValidityAndFallbacks1795490000001,
  NotificationPackV21795490000002,
  CampaignRecipientAddressKey1795490000003,
  CompletionClosingNote1795490000004,
  RuleExecutionAttempts1795490000005,
  ServiceWindow1795490000006,
  MetaTemplates1795490000007,
  DeliverySubjectIndexes1795490000008,
  StoredFiles1795490000009,
  DeliveryAttachment1795490000010,
  DeliverySentBy1795490000011,
  CampaignEnd1795490000012,
];
