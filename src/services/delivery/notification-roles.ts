import { Role, type StaffRole } from '../../entities/user.entity';

const { ADMIN, MANAGER, SUPERVISOR, AGENT, TECHNICIAN } = Role;

/** What staff send by hand (sendMessage), by notification type: who may send each. */
export const NOTIFICATION_ROLES: Readonly<Record<string, readonly StaffRole[]>> = {
  // Offers and promotions reach many customers and speak for the business.
  promotion: [ADMIN, MANAGER],
  offer: [ADMIN, MANAGER],
  // Maintenance notices and emergency alerts: those who run operations.
  maintenance_notice: [ADMIN, MANAGER, SUPERVISOR],
  emergency: [ADMIN, MANAGER, SUPERVISOR],
  report: [ADMIN, MANAGER, SUPERVISOR],
  // Surveys and welcomes: anyone who looks after customers.
  survey: [ADMIN, MANAGER, SUPERVISOR, AGENT],
  welcome: [ADMIN, MANAGER, SUPERVISOR, AGENT],
  // A technician's own job: on the way, done, a question about the visit.
  job_update: [ADMIN, MANAGER, SUPERVISOR, AGENT, TECHNICIAN],
  technician_on_the_way: [ADMIN, MANAGER, SUPERVISOR, AGENT, TECHNICIAN],
};

/** Any other type of the business's own (ad_hoc, payment_reminder...): the staff who work tickets. */
export const OTHER_TYPE_ROLES: readonly StaffRole[] = [ADMIN, MANAGER, SUPERVISOR, AGENT];

/**
 * Types the product sends itself, never by hand: they drive its own reading of replies
 * (a rating answers the last satisfaction survey, YA/TIDAK the last completion request)
 * and its figures, so a hand-sent one would be mistaken for the real thing.
 */
export const PRODUCT_TYPES: readonly string[] = [
  'automation_webhook',
  'campaign',
  'campaign_test',
  'completion_reminder',
  'completion_request',
  'escalation',
  'job_paused',
  'opt_in_confirmation',
  'opt_out_confirmation',
  'satisfaction_survey',
  'sla_warning',
  'ticket_assigned',
  'ticket_auto_closed',
  'ticket_reply',
];

/** The roles that may send a notification type by hand; none for the product's own. */
export function rolesFor(notificationType: string): readonly StaffRole[] {
  if (PRODUCT_TYPES.includes(notificationType)) return [];
  return NOTIFICATION_ROLES[notificationType] ?? OTHER_TYPE_ROLES;
}

/** The types a role may send by hand, among those the table names. */
export function typesFor(role: StaffRole): string[] {
  return Object.keys(NOTIFICATION_ROLES).filter((type) => NOTIFICATION_ROLES[type]!.includes(role));
}

/** Why this role may not send this type by hand, or null when it may. */
export function notificationRefusal(role: StaffRole, notificationType: string): string | null {
  if (rolesFor(notificationType).includes(role)) return null;
  if (PRODUCT_TYPES.includes(notificationType)) {
    return `${notificationType} messages are sent by the product itself, not by hand`;
  }
  const allowed = rolesFor(notificationType).join(', ');
  const own = typesFor(role);
  return (
    `A ${role} may not send ${notificationType} messages (only ${allowed} may)` +
    (own.length ? `; a ${role} may send ${own.join(', ')}` : '')
  );
}
