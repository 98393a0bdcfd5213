/**
 * The event types the product itself records (source `internal`), with what each is
 * about: what rules can listen to before a tenant's own systems send anything. A test
 * reads the services' sources and fails on a recorded type missing here.
 */
export const INTERNAL_EVENT_TYPES: ReadonlyArray<{ type: string; subjectType: string; description: string }> = [
  {
    type: 'ticket.created',
    subjectType: 'ticket',
    description: 'A ticket was opened (by staff, a customer, a rule or an inbound message)',
  },
  { type: 'ticket.assigned', subjectType: 'ticket', description: 'A ticket got an assignee or changed assignee' },
  { type: 'ticket.status_changed', subjectType: 'ticket', description: "A ticket's status changed (payload: from, to)" },
  { type: 'ticket.priority_changed', subjectType: 'ticket', description: "A ticket's priority changed" },
  { type: 'ticket.message_added', subjectType: 'ticket', description: 'A message or internal note was added to a thread' },
  { type: 'ticket.rated', subjectType: 'ticket', description: 'The requester rated the support they got' },
  { type: 'ticket.escalated', subjectType: 'ticket', description: 'A ticket was escalated to a manager' },
  { type: 'sla.warning', subjectType: 'ticket', description: 'A ticket is close to its SLA target' },
  { type: 'sla.breached', subjectType: 'ticket', description: 'A ticket missed its SLA target' },
  { type: 'sla.policy_updated', subjectType: 'sla_policy', description: 'An SLA policy was changed' },
  { type: 'escalation.acknowledged', subjectType: 'escalation', description: 'A manager acknowledged an escalation' },
  { type: 'escalation.policy_updated', subjectType: 'escalation_policy', description: 'An escalation policy was changed' },
  {
    type: 'completion.requested',
    subjectType: 'completion_request',
    description: 'A technician asked the customer to confirm a job',
  },
  { type: 'completion.confirmed', subjectType: 'completion_request', description: 'The customer confirmed the job' },
  { type: 'completion.disputed', subjectType: 'completion_request', description: 'The customer disputed the job' },
  {
    type: 'completion.auto_completed',
    subjectType: 'completion_request',
    description: 'No answer by the deadline: completed automatically',
  },
  {
    type: 'completion.escalated',
    subjectType: 'completion_request',
    description: 'No answer after the reminders: support got a ticket',
  },
  {
    type: 'completion.unreachable',
    subjectType: 'completion_request',
    description: 'Support closed the request: the customer could not be reached',
  },
  { type: 'completion.cancelled', subjectType: 'completion_request', description: 'Support cancelled the request' },
  { type: 'completion.reviewed', subjectType: 'completion_request', description: 'The customer rated the job (payload: rating)' },
  {
    type: 'contact.created',
    subjectType: 'contact',
    description: 'A contact was created (by staff, an import or an inbound message)',
  },
  { type: 'user.created', subjectType: 'user', description: 'A staff user was created' },
  { type: 'record.created', subjectType: 'business_record', description: "A business record arrived from the tenant's systems" },
  { type: 'record.status_changed', subjectType: 'business_record', description: "A business record's status changed" },
  { type: 'job.paused', subjectType: 'job', description: 'A scheduled job was paused after repeated failures' },
];
