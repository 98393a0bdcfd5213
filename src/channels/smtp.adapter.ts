import nodemailer, { type Transporter } from 'nodemailer';
import { ProviderKind } from '../entities/channel';
import { AddressNotAllowedError } from './address-guard';
import type { ChannelSettings } from './http';
import {
  type ChannelAdapter,
  type OutboundMessage,
  type ProviderAccount,
  type SendOutcome,
  MissingSettingError,
  providerFault,
  rejected,
  setting,
  transient,
} from './types';

/**
 * E-mail over SMTP with nodemailer: 5xx replies refuse the message, refused credentials
 * belong to the account, 4xx and connection errors are transient. The mail server's
 * address is checked by the address guard before each send.
 */
export class SmtpAdapter implements ChannelAdapter {
  readonly kind = ProviderKind.SMTP;
  private readonly transports = new Map<string, Transporter>();

  constructor(private readonly settings: ChannelSettings) {}

  async send(account: ProviderAccount, message: OutboundMessage): Promise<SendOutcome> {
    try {
      await this.settings.guard.assertHostAllowed(setting(account, 'host'));
      const info = await this.transport(account).sendMail({
        from: setting(account, 'from'),
        to: message.to,
        subject: message.subject ?? '',
        text: message.body,
        headers: {
          'X-Notify-Delivery': message.deliveryId,
          // RFC 8058 one-click unsubscribe: mail clients POST List-Unsubscribe=One-Click to the URL.
          ...(message.unsubscribeUrl
            ? { 'List-Unsubscribe': `<${message.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
            : {}),
        },
      });
      return { ok: true, providerMessageId: info.messageId };
    } catch (error) {
      if (error instanceof MissingSettingError) return providerFault('PROVIDER_MISCONFIGURED', error.message);
      if (error instanceof AddressNotAllowedError) return providerFault('ADDRESS_NOT_ALLOWED', error.message);
      const { responseCode, code, message: text } = error as { responseCode?: number; code?: string; message?: string };
      if (code === 'EAUTH') return providerFault('SMTP_AUTH', text ?? 'The mail server refused the credentials');
      if (responseCode && responseCode >= 500) return rejected(`SMTP_${responseCode}`, text ?? 'Refused by the mail server');
      return transient(responseCode ? `SMTP_${responseCode}` : (code ?? 'SMTP'), text ?? 'The mail server is unavailable');
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
        connectionTimeout: this.settings.sendTimeoutMs,
        greetingTimeout: this.settings.sendTimeoutMs,
        socketTimeout: this.settings.sendTimeoutMs,
        ignoreTLS: account.settings.ignoreTLS === true,
      });
      this.transports.set(key, transport);
    }
    return transport;
  }
}
