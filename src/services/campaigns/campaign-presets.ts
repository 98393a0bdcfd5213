import { CampaignCategory, type CampaignAudience } from '../../entities/campaign.entity';
import { badInput } from '../platform/errors';

/** A maintenance notice to every customer in an area. */
export interface MaintenancePreset {
  type: string;
  area: string;
  start: Date;
  durationHours: number;
  impact: string;
  reason: string;
}

/** A promotion. */
export interface PromotionPreset {
  title: string;
  offer: string;
  discount?: string | null;
  validUntil: Date;
  terms?: string | null;
  callToAction?: string | null;
}

export interface PresetDefaults {
  preset: string;
  category: CampaignCategory;
  text: string;
  audience: CampaignAudience | null;
  variables: Record<string, unknown>;
}

const when = (date: Date) => date.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

/**
 * The notices a service business sends in bulk, as campaign defaults: the message text
 * (with variables, so a template may replace it), the category and, for maintenance,
 * the audience (every contact in the area). Whatever the input gives itself wins.
 */
export function presetDefaults(
  maintenance?: MaintenancePreset | null,
  promotion?: PromotionPreset | null,
): PresetDefaults | null {
  if (maintenance && promotion) throw badInput('Give one preset: maintenance or promotion', 'preset');
  if (maintenance) {
    if (!maintenance.area.trim()) throw badInput('The maintenance area is required', 'maintenance.area');
    if (!(maintenance.durationHours > 0 && maintenance.durationHours <= 720))
      throw badInput('durationHours must be between 0 and 720', 'maintenance.durationHours');
    return {
      preset: 'maintenance_notice',
      category: CampaignCategory.OPERATIONAL,
      audience: { filter: { path: 'contact.area', op: 'eq', value: maintenance.area } },
      variables: {
        maintenance: {
          type: maintenance.type,
          area: maintenance.area,
          start: when(maintenance.start),
          durationHours: maintenance.durationHours,
          impact: maintenance.impact,
          reason: maintenance.reason,
        },
      },
      text:
        'Hello {{contact.name}}, planned {{maintenance.type}} in {{maintenance.area}} from {{maintenance.start}} ' +
        'for about {{maintenance.durationHours}} hours. Impact: {{maintenance.impact}}. Reason: {{maintenance.reason}}. ' +
        'We are sorry for the inconvenience.',
    };
  }
  if (promotion) {
    if (!promotion.title.trim()) throw badInput('The promotion title is required', 'promotion.title');
    return {
      preset: 'promotion',
      category: CampaignCategory.MARKETING,
      audience: null,
      variables: {
        promotion: {
          title: promotion.title,
          offer: promotion.offer,
          discount: promotion.discount ?? '',
          validUntil: promotion.validUntil.toISOString().slice(0, 10),
          terms: promotion.terms ?? '',
          callToAction: promotion.callToAction ?? '',
        },
      },
      text:
        '{{promotion.title}}: {{promotion.offer}} {{promotion.discount}} Valid until {{promotion.validUntil}}. ' +
        '{{promotion.callToAction}} {{promotion.terms}} Reply STOP to opt out.',
    };
  }
  return null;
}
