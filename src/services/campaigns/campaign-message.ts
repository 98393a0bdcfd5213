import { type EntityManager, In } from 'typeorm';
import { Channel } from '../../entities/channel';
import type { Campaign } from '../../entities/campaign.entity';
import type { Contact } from '../../entities/contact.entity';
import type { MetaTemplateMessage } from '../../entities/delivery.entity';
import { MessageTemplate } from '../../entities/message-template.entity';
import type { Tenant } from '../../entities/tenant.entity';
import { renderTemplate, templateCandidates, templateParameters } from '../delivery/template-rendering';

export interface CampaignMessage {
  templateId: string | null;
  subject: string | null;
  body: string;
  metaTemplate: MetaTemplateMessage | null;
  /** The original targets of the tracked links in the body, by index. */
  links: string[];
}

/** Links a recipient's message carries: where clicks and the unsubscribe link lead. */
export interface RecipientLinks {
  /** e.g. https://api.example.com; tracked links are <base>/r/<token>/<n>, unsubscribing <base>/u/<token>. */
  base: string;
  token: string;
}

const URL_IN_TEXT = /https?:\/\/[^\s<>"')\]]+/g;

/** The campaign's templates (every language of its name, on its channels), read once per batch. */
export async function loadCampaignTemplates(manager: EntityManager, campaign: Campaign): Promise<MessageTemplate[]> {
  if (!campaign.template) return [];
  const all = await manager.find(MessageTemplate, { where: { tenantId: campaign.tenantId, channel: In(campaign.channels) } });
  return all.filter((template) => template.name === campaign.template || template.name.startsWith(`${campaign.template}.`));
}

/** The template in the contact's language (then the tenant's, the bare name, English), as single sends choose it. */
export function pickTemplate(
  templates: MessageTemplate[],
  channel: Channel,
  name: string,
  locale: string,
): MessageTemplate | undefined {
  return templateCandidates(name, locale)
    .map((candidate) => templates.find((template) => template.channel === channel && template.name === candidate))
    .find(Boolean);
}

/**
 * One recipient's message, rendered: the contact, the tenant and the campaign's variables
 * fill the template; links become tracked links; e-mail gets an unsubscribe line.
 * Throws (BAD_USER_INPUT) when the contact lacks a value the message needs.
 */
export function campaignMessageFor(
  campaign: Campaign,
  templates: MessageTemplate[],
  channel: Channel,
  contact: Pick<Contact, 'name' | 'locale'> & Partial<Contact>,
  tenant: Pick<Tenant, 'name' | 'locale'>,
  links: RecipientLinks | null,
): CampaignMessage {
  const variables = {
    ...campaign.variables,
    contact,
    tenant: { name: tenant.name },
    campaign: { name: campaign.name },
  };
  const template = campaign.template
    ? pickTemplate(templates, channel, campaign.template, contact.locale ?? tenant.locale)
    : undefined;
  if (campaign.template && !template) throw new Error(`No ${channel} template ${campaign.template}`);
  const source = template?.body ?? campaign.text ?? '';
  const targets: string[] = [];
  let body = renderTemplate(source, variables);
  if (links) {
    body = body.replace(URL_IN_TEXT, (url) => {
      targets.push(url);
      return `${links.base}/r/${links.token}/${targets.length - 1}`;
    });
    if (channel === Channel.EMAIL) body += `\n\nUnsubscribe: ${links.base}/u/${links.token}`;
  }
  const subjectSource = template?.subject ?? campaign.subject;
  return {
    templateId: template?.id ?? null,
    subject: channel === Channel.EMAIL ? (subjectSource ? renderTemplate(subjectSource, variables) : campaign.name) : null,
    body,
    metaTemplate:
      template?.metaTemplateName && channel === Channel.WHATSAPP
        ? {
            name: template.metaTemplateName,
            language: template.metaLanguage ?? 'en_US',
            parameters: templateParameters(template.body, variables),
          }
        : null,
    links: targets,
  };
}
