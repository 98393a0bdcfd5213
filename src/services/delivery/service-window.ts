import type { DataSource } from 'typeorm';
import { Channel, ProviderKind } from '../../entities/channel';
import type { ChannelProvider } from '../../entities/channel-provider.entity';
import type { Clock } from '../platform/clock';
import type { ChannelProviderService } from './channel-provider.service';

/** Meta's customer-service window: 24 hours from the customer's last message to the business number. */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** What refuses free text outside the window: the failure code and the GraphQL error code. */
export const OUTSIDE_SERVICE_WINDOW = 'OUTSIDE_SERVICE_WINDOW';

/**
 * Whether a provider holds WhatsApp free text to Meta's window. Meta's Cloud API does; the
 * local gateways (Fonnte, Wablas) send as a phone does and do not. An admin turns it off on a
 * Meta provider (`settings.serviceWindow: false`) when the number's inbound messages reach
 * another system, so the product cannot see the window: free text is then tried, and Meta's
 * own refusal (131047) moves the message to its template or the next provider.
 */
export function enforcesWindow(provider: Pick<ChannelProvider, 'kind' | 'settings'>): boolean {
  return provider.kind === ProviderKind.META_WHATSAPP && provider.settings?.serviceWindow !== false;
}

/** When a window opened by a customer message at `lastInboundAt` closes. */
export const windowClosesAt = (lastInboundAt: Date): Date => new Date(lastInboundAt.getTime() + SERVICE_WINDOW_MS);

/**
 * How one provider can carry one WhatsApp message:
 * - `text`: free text (a gateway; or Meta inside the window, cheaper and what replies need);
 * - `template`: Meta's approved template with its parameters (outside the window, or on a
 *   Meta number whose window the product cannot see);
 * - `none`: outside the window with no approved template: this provider cannot carry it.
 * Pure, so the choice is tested on its own.
 */
export type WhatsAppForm = 'text' | 'template' | 'none';

export function whatsappForm(
  provider: Pick<ChannelProvider, 'kind' | 'settings'>,
  closesAt: Date | undefined,
  now: Date,
  hasTemplate: boolean,
): WhatsAppForm {
  if (provider.kind !== ProviderKind.META_WHATSAPP) return 'text';
  // Where the product cannot see the window, the approved template is the form Meta always takes.
  if (!enforcesWindow(provider)) return hasTemplate ? 'template' : 'text';
  if (closesAt && closesAt > now) return 'text';
  return hasTemplate ? 'template' : 'none';
}

/** Window closing times of one tenant's customer number, by provider id. */
export type Windows = ReadonlyMap<string, Date>;

/**
 * SQL for the windows of a delivery row's recipient (`alias`), for a statement that reads
 * deliveries (the dispatcher's claim): a JSON object of provider id to the customer's last
 * message, or null on other channels. Read it with parseWindows.
 */
export const windowsOfRecipient = (alias: string): string =>
  `CASE WHEN ${alias}.channel = 'whatsapp' THEN (SELECT jsonb_object_agg(w."providerId", w."lastInboundAt") FROM service_window w
          WHERE w."tenantId" = ${alias}."tenantId" AND w.phone = ${alias}.recipient) END`;

export function parseWindows(value: unknown): Windows {
  const windows = new Map<string, Date>();
  if (value && typeof value === 'object') {
    for (const [providerId, at] of Object.entries(value as Record<string, string>))
      windows.set(providerId, windowClosesAt(new Date(at)));
  }
  return windows;
}

/** How windowsOf keys its answer. */
export const windowKey = (tenantId: string, phone: string) => `${tenantId}:${phone}`;
const key = windowKey;

/**
 * The owner of `service_window`: customers' messages open windows, the dispatcher and the
 * ticket read them.
 */
export class ServiceWindowService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly providers: ChannelProviderService,
    private readonly clock: Clock,
  ) {}

  /** A customer's message to a Meta number opens (or extends) their window there; an older message changes nothing. */
  async noteInbound(provider: ChannelProvider, phone: string, at: Date | null): Promise<void> {
    // Meta's timestamp is when the customer sent it; never later than now, whatever the clocks say.
    const now = this.clock.now();
    const sent = at && at < now ? at : now;
    await this.dataSource.query(
      `INSERT INTO service_window ("providerId", phone, "tenantId", "lastInboundAt") VALUES ($1, $2, $3, $4)
       ON CONFLICT ("providerId", phone) DO UPDATE
         SET "lastInboundAt" = GREATEST(service_window."lastInboundAt", EXCLUDED."lastInboundAt")`,
      [provider.id, phone, provider.tenantId, sent],
    );
  }

  /** The windows of many (tenant, number) pairs in one statement, keyed `tenantId:phone`. */
  async windowsOf(pairs: ReadonlyArray<{ tenantId: string; phone: string }>): Promise<Map<string, Windows>> {
    const found = new Map<string, Map<string, Date>>();
    if (!pairs.length) return found;
    const rows = (await this.dataSource.query(
      `SELECT w."tenantId", w.phone, w."providerId", w."lastInboundAt"
         FROM service_window w
         JOIN unnest($1::uuid[], $2::varchar[]) AS p("tenantId", phone) ON p."tenantId" = w."tenantId" AND p.phone = w.phone`,
      [pairs.map((pair) => pair.tenantId), pairs.map((pair) => pair.phone)],
    )) as Array<{ tenantId: string; phone: string; providerId: string; lastInboundAt: Date }>;
    for (const row of rows) {
      const windows = found.get(key(row.tenantId, row.phone)) ?? new Map<string, Date>();
      windows.set(row.providerId, windowClosesAt(new Date(row.lastInboundAt)));
      found.set(key(row.tenantId, row.phone), windows);
    }
    return found;
  }

  async windowsFor(tenantId: string, phone: string): Promise<Windows> {
    return (await this.windowsOf([{ tenantId, phone }])).get(key(tenantId, phone)) ?? new Map();
  }

  /**
   * Customers' windows on the tenant's WhatsApp, by number: when each closes on the enabled
   * Meta number that closes last (in the past once it has closed), or null when they never
   * wrote to one. One statement for the windows and one for the providers, however many.
   */
  async closingTimes(tenantId: string, phones: readonly string[]): Promise<Map<string, Date | null>> {
    const [windows, providers] = await Promise.all([
      this.windowsOf(phones.map((phone) => ({ tenantId, phone }))),
      this.providers.enabledFor(tenantId, Channel.WHATSAPP),
    ]);
    const meta = providers.filter(enforcesWindow);
    return new Map(
      phones.map((phone) => {
        const mine = windows.get(key(tenantId, phone));
        const times = meta.flatMap((provider) => mine?.get(provider.id)?.getTime() ?? []);
        return [phone, times.length ? new Date(Math.max(...times)) : null];
      }),
    );
  }

  /**
   * Whether free text can reach this number on WhatsApp now: some enabled provider carries
   * free text (a gateway, or a Meta number whose window is open). With no provider at all the
   * answer is yes: that is the delivery's NO_PROVIDER failure to report, not the window.
   */
  async allowsFreeText(tenantId: string, phone: string): Promise<boolean> {
    const providers = await this.providers.enabledFor(tenantId, Channel.WHATSAPP);
    if (!providers.length) return true;
    const windows = await this.windowsFor(tenantId, phone);
    const now = this.clock.now();
    return providers.some((provider) => whatsappForm(provider, windows.get(provider.id), now, false) === 'text');
  }
}
