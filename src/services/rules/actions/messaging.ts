import type { Attachment } from '../../../entities/ticket-message.entity';
import { z } from 'zod';
import { Channel } from '../../../entities/channel';
import { renderTemplate } from '../../delivery/template-rendering';
import { MAX_VALIDITY_MINUTES } from '../../delivery/validity';
import { badInput } from '../../platform/errors';
import { type Facts, templateValues } from '../facts';
import { type ActionRun, type Problem, type TemplateCatalogue, oneOf, variables, whole } from './action';
import { checkPlaceholders, checkVariable } from './placeholders';
import { type Recipient, type Target, reachable, recipient, recipientList, resolveRecipients } from './recipients';

const CHANNELS = Object.values(Channel);
const channel = oneOf(CHANNELS);

/** How a message is sent: channels in order of preference, what it says, and to whom. */
export const delivery = {
  channels: z
    .array(channel, { error: 'must be a list of channels' })
    .min(1, { error: 'give 1-4 channels' })
    .max(4, { error: 'give 1-4 channels' })
    .optional()
    .meta({
      description:
        'Channels in order of preference; the first the recipient can be reached on is used, the rest are its fallbacks',
    }),
  channel: channel.optional().meta({ description: 'One channel (instead of channels)' }),
  variables,
  notificationType: z
    .string({ error: 'must be a lower-case word such as payment_reminder' })
    .regex(/^[a-z][a-z0-9_]{0,49}$/, { error: 'must be a lower-case word such as payment_reminder' })
    .optional()
    .meta({ description: 'What kind of notification this is (consent, quiet hours and stats go by it)' }),
  validForMinutes: whole(1, MAX_VALIDITY_MINUTES, `must be a whole number of minutes, 1-${MAX_VALIDITY_MINUTES} (30 days)`)
    .optional()
    .meta({ description: 'After this long unsent, the message is expired instead of sent late' }),
  recipients: recipientList(recipient),
};

/** What a message says: one of the tenant's templates, or a text with {{placeholders}}. */
export const content = {
  template: z
    .string({ error: 'must be a template name' })
    .min(1, { error: 'must be a template name' })
    .max(100, { error: 'must be a template name' })
    .optional()
    .meta({ description: "The name of one of the tenant's templates (its language versions are name.xx)" }),
  text: z
    .string({ error: 'give a template name or the text (1-4096 characters)' })
    .max(4096, { error: 'give a template name or the text (1-4096 characters)' })
    .optional()
    .meta({ description: 'The text, with {{placeholders}} from the facts and variables' }),
};

export interface DeliveryParams {
  channels?: Channel[];
  channel?: Channel;
  variables?: Record<string, unknown>;
  notificationType?: string;
  validForMinutes?: number;
  recipients: Recipient[];
}
export interface ContentParams {
  template?: string;
  text?: string;
}

export function channelsOf(params: DeliveryParams): Channel[] {
  return params.channels ?? (params.channel ? [params.channel] : []);
}

/** The checks a message's schema cannot make: a channel is given, the template exists, every placeholder can be filled. */
export function checkMessage(
  params: DeliveryParams & ContentParams,
  at: string,
  templates: TemplateCatalogue | null,
  problem: Problem,
): void {
  const channels = channelsOf(params);
  if (!channels.length) {
    problem(`${at}.channels`, `give a channel or a preference list of channels (${CHANNELS.join(', ')})`);
    return;
  }
  if (!templates) return;
  const { template } = params;
  if (template !== undefined) {
    const found = channels.filter((candidate) => templates.variables(candidate, template) !== undefined);
    if (!found.length) return problem(`${at}.template`, `no template "${template}" for ${channels.join(' or ')}`);
    for (const candidate of found) {
      for (const name of templates.variables(candidate, template)!)
        checkVariable(name, `${at}.template`, params.variables, problem);
    }
  } else if (!params.text?.trim()) problem(`${at}.text`, 'give a template name or the text (1-4096 characters)');
  else checkPlaceholders(params.text, `${at}.text`, params.variables, problem);
}

/**
 * Queues the message for each recipient on the first channel they can be reached on
 * (and that has the template), the rest as fallbacks; each send has the idempotency key
 * of its execution, action and recipient, so a retried execution sends nothing twice.
 */
export async function sendMessage(
  run: ActionRun,
  params: DeliveryParams & ContentParams,
  textFor?: (target: Target) => string,
): Promise<string[]> {
  const { uow, rule, execution, index, facts } = run;
  const channels = channelsOf(params);
  const template = textFor ? undefined : params.template;
  const available = template
    ? new Set(
        (
          (await uow.manager.query(
            `SELECT DISTINCT channel FROM message_template WHERE "tenantId" = $1 AND (name = $2 OR name LIKE $3)`,
            [rule.tenantId, template, `${template.replace(/[\\%_]/g, (c) => '\\' + c)}.%`],
          )) as Array<{ channel: Channel }>
        ).map((row) => row.channel),
      )
    : new Set(channels);
  const targets = await resolveRecipients(uow.manager, rule.tenantId, params.recipients, facts);
  if (!targets.length) throw badInput('No recipient could be found for this message');
  const ids: string[] = [];
  for (const target of targets) {
    const usable = channels.filter((candidate) => available.has(candidate) && reachable(target, candidate));
    const [first, ...fallbackChannels] = usable;
    if (!first) throw badInput(`${target.label} cannot be reached on ${channels.join(' or ')}`);
    const values = { ...templateValues(facts, params.variables), recipient: { name: target.label } };
    const carried = carriedMessage(facts, target);
    // An agent's reply the agent chose to send as a WhatsApp template (the customer's window had closed).
    const replyTemplate = carried && first === Channel.WHATSAPP ? chosenReplyTemplate(facts) : null;
    const templateName = replyTemplate ?? template ?? null;
    const queued = await run.services.deliveries.enqueue(
      rule.tenantId,
      {
        channel: first,
        to: target.address ?? null,
        contactId: target.contact?.id ?? null,
        userId: target.user?.id ?? null,
        templateName,
        text: templateName ? null : textFor ? textFor(target) : renderTemplate(params.text ?? '', values),
        variables: values,
        notificationType: params.notificationType ?? (textFor ? 'report' : 'automation'),
        idempotencyKey: `rule:${execution.id}:${index}:${target.key}`,
        ticketId: (facts.ticket?.id as string) ?? null,
        ticketMessageId: carried,
        attachment: carried ? carriedFile(facts) : null,
        ruleExecutionId: execution.id,
        validForMinutes: params.validForMinutes ?? null,
        fallbackChannels,
      },
      uow,
    );
    ids.push(queued.id);
  }
  return ids;
}

/**
 * The thread message a send carries: an agent's reply, relayed to the ticket's requester
 * from the `ticket.message_added` event this service recorded (never one sent in from outside).
 */
/** The WhatsApp template an agent chose for the reply this event records, if any. */
function chosenReplyTemplate(facts: Facts): string | null {
  const chosen = (facts.event?.payload as Record<string, unknown> | null)?.whatsappTemplate;
  return typeof chosen === 'string' && chosen ? chosen : null;
}

/** The first file of the carried reply, sent with it (Meta shows it; other channels get its link). */
function carriedFile(facts: Facts): Attachment | null {
  const files = (facts.event?.payload as Record<string, unknown> | null)?.files;
  const first = Array.isArray(files) ? (files[0] as Partial<Attachment> | undefined) : undefined;
  return first && typeof first.fileId === 'string' && typeof first.contentType === 'string' && typeof first.filename === 'string'
    ? { fileId: first.fileId, url: '', filename: first.filename, contentType: first.contentType, size: Number(first.size ?? 0) }
    : null;
}

function carriedMessage(facts: Facts, target: Target): string | null {
  const event = facts.event;
  if (event?.type !== 'ticket.message_added' || event.source !== 'internal') return null;
  const messageId = (event.payload as Record<string, unknown> | null)?.messageId;
  if (typeof messageId !== 'string' || !target.contact || target.contact.id !== facts.ticket?.requesterId) return null;
  return messageId;
}
