import nodemailer, { type Transporter } from 'nodemailer';
import { ProviderKind } from '../entities/channel';
import { DEFAULT_SEND_TIMEOUT_MS } from './http';
import {
  type ChannelAdapter,
  type OutboundMessage,
  type ProviderAccount,
  type SendOutcome,
  MissingSettingError,
  permanent,
  retryable,
  setting,
} from './types';

/** E-mail over SMTP with nodemailer; 5xx replies are permanent, 4xx and connection errors retryable. */
export class SmtpAdapter implements ChannelAdapter {
  readonly kind = ProviderKind.SMTP;
  private readonly transports = new Map<string, Transporter>();

  async send(account: ProviderAccount, message: OutboundMessage): Promise<SendOutcome> {
    try {
      const info = await this.transport(account).sendMail({
        from: setting(account, 'from'),
        to: message.to,
        subject: message.subject ?? '',
        text: message.body,
        headers: { 'X-Notify-Delivery': message.deliveryId },
      });
      return { ok: true, providerMessageId: info.messageId };
    } catch (error) {
      if (error instanceof MissingSettingError) return permanent('PROVIDER_MISCONFIGURED', error.message);
      const { responseCode, code, message: text } = error as { responseCode?: number; code?: string; message?: string };
      if (responseCode && responseCode >= 500) return permanent(`SMTP_${responseCode}`, text ?? 'Refused by the mail server');
      if (code === 'EAUTH') return permanent('SMTP_AUTH', text ?? 'The mail server refused the credentials');
      return retryable(responseCode ? `SMTP_${responseCode}` : (code ?? 'SMTP'), text ?? 'The mail server is unavailable');
    }
  }

  private transport(account: ProviderAccount): Transporter {
    const key = `${account.id}:${JSON.stringify(account.settings)}:${account.credentials.username ?? ''}`;
    let transport = this.transports.get(key);
    if (!transport) {
      const port = Number(account.settings.port ?? 587);
      transport = nodemailer.createTransport({
        host: setting(account, 'host'),
        port,
        secure: account.settings.secure === true || port === 465,
        auth: account.credentials.username
          ? { user: account.credentials.username, pass: account.credentials.password }
          : undefined,
        connectionTimeout: DEFAULT_SEND_TIMEOUT_MS,
        greetingTimeout: DEFAULT_SEND_TIMEOUT_MS,
        socketTimeout: DEFAULT_SEND_TIMEOUT_MS,
        ignoreTLS: account.settings.ignoreTLS === true,
      });
      this.transports.set(key, transport);
    }
    return transport;
  }
}
