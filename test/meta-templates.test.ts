import { metaBody, metaTemplateName, templateUsable } from '../src/services/delivery/meta-templates';
import { parseMetaWebhook } from '../src/channels/meta-webhook';

describe('templates as Meta takes them', () => {
  it('numbers every placeholder in order, repeats included, as the parameters are filled', () => {
    expect(metaBody('Hi {{contact.name}}, {{time}} at {{ contact.area | your place }}; bye {{contact.name}}')).toEqual({
      text: 'Hi {{1}}, {{2}} at {{3}}; bye {{4}}',
      placeholders: ['contact.name', 'time', 'contact.area', 'contact.name'],
    });
    expect(metaBody('No placeholders')).toEqual({ text: 'No placeholders', placeholders: [] });
  });

  it('makes a product template name Meta-safe', () => {
    expect(metaTemplateName('Visit Reminder')).toBe('visit_reminder');
    expect(metaTemplateName('payment-reminder.id')).toBe('payment_reminder_id');
    expect(metaTemplateName('---')).toBe('template');
  });

  it('sends only approved templates, and those Meta has not reported on', () => {
    expect(templateUsable('APPROVED')).toBe(true);
    expect(templateUsable(undefined)).toBe(true);
    for (const status of ['PENDING', 'PAUSED', 'REJECTED', 'DISABLED', 'IN_APPEAL']) expect(templateUsable(status)).toBe(false);
  });

  it('reads template status updates out of the webhook, with the business account they belong to', () => {
    const parsed = parseMetaWebhook({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              field: 'message_template_status_update',
              value: {
                event: 'REJECTED',
                message_template_id: 1234,
                message_template_name: 'weekly_promo',
                message_template_language: 'id',
                reason: 'INCORRECT_CATEGORY',
              },
            },
            { field: 'message_template_status_update', value: { event: 'APPROVED' } },
          ],
        },
      ],
    });
    expect(parsed.templates).toEqual([
      {
        businessAccountId: '102290129340398',
        metaId: '1234',
        name: 'weekly_promo',
        language: 'id',
        status: 'REJECTED',
        reason: 'INCORRECT_CATEGORY',
      },
    ]);
    expect(parsed.statuses).toEqual([]);
    expect(parsed.messages).toEqual([]);
  });
});
