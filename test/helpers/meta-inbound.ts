import { createHmac } from 'node:crypto';

/** What a customer sends on WhatsApp, as Meta's webhook delivers it. */
export interface InboundText {
  phoneNumberId: string;
  from: string;
  name: string;
  id: string;
  text: string;
  /** When the customer sent it, in seconds (Meta's `timestamp`). */
  timestamp?: number;
}

/** Posts a customer's text message to the Meta webhook, signed with the app secret as Meta signs it; the HTTP status. */
export function postMetaInbound(url: string, appSecret: string, message: InboundText): Promise<number> {
  return postMetaChange(url, appSecret, message.phoneNumberId, {
    contacts: [{ profile: { name: message.name }, wa_id: message.from }],
    messages: [
      {
        from: message.from,
        id: message.id,
        timestamp: String(message.timestamp ?? 1800000000),
        type: 'text',
        text: { body: message.text },
      },
    ],
  });
}

/** Posts Meta's status report of a sent message (sent, delivered, read, failed) to the webhook; the HTTP status. */
export function postMetaStatus(
  url: string,
  appSecret: string,
  report: { phoneNumberId: string; wamid: string; status: string; recipient: string; timestamp: number },
): Promise<number> {
  return postMetaChange(url, appSecret, report.phoneNumberId, {
    statuses: [
      {
        id: report.wamid,
        status: report.status,
        timestamp: String(report.timestamp),
        recipient_id: report.recipient.replace(/^\+/, ''),
      },
    ],
  });
}

/** Posts one change of the `messages` field (messages, statuses) for a phone number id, signed as Meta signs it; the HTTP status. */
export async function postMetaChange(
  url: string,
  appSecret: string,
  phoneNumberId: string,
  value: Record<string, unknown>,
): Promise<number> {
  const raw = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WABA',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '1555', phone_number_id: phoneNumberId },
              ...value,
            },
          },
        ],
      },
    ],
  });
  const response = await fetch(`${url}/webhooks/whatsapp/meta`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': 'sha256=' + createHmac('sha256', appSecret).update(raw).digest('hex'),
    },
    body: raw,
  });
  return response.status;
}
