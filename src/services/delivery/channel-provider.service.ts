import type { DataSource } from 'typeorm';
import { verifyCallbackToken } from '../../channels/gateway-webhooks';
import { type AddressGuard, AddressNotAllowedError } from '../../channels/address-guard';
import type { ProviderAccount } from '../../channels/types';
import { CHANNEL_OF, type Channel, ProviderKind } from '../../entities/channel';
import { ChannelProvider } from '../../entities/channel-provider.entity';
import type { Clock } from '../platform/clock';
import { badInput, conflict, notFound } from '../platform/errors';
import type { Principal } from '../directory/principal';
import { type SecretBox, UnreadableSecretError } from '../platform/secret-box';
import { returningRows } from '../platform/sql';

export interface ProviderInput {
  kind: ProviderKind;
  name: string;
  priority?: number | null;
  enabled?: boolean | null;
  rateLimitPerSecond?: number | null;
  minIntervalMs?: number | null;
  baseUrl?: string | null;
  settings?: Record<string, unknown> | null;
  credentials?: Record<string, string> | null;
}

/** Meta's documented default throughput per phone number; other kinds are unlimited unless configured. */
const DEFAULT_RATE: Partial<Record<ProviderKind, number>> = { meta_whatsapp: 80 };

export interface CircuitSettings {
  failureThreshold: number;
  cooldownMs: number;
  /**
   * How long a probe holds the provider for itself: as long as one send may take. Its
   * outcome then sets what follows; if the outcome is never written (the worker died, its
   * connection was cut), another probe may go after this, not after a whole cool-down.
   */
  probeHoldMs: number;
}

/** Provider accounts per tenant: configuration, write-only credentials and circuit state. */
export class ChannelProviderService {
  private readonly accounts = new WeakMap<ChannelProvider, ProviderAccount>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    private readonly guard: AddressGuard,
    private readonly circuit: CircuitSettings,
  ) {}

  list(actor: Principal, channel?: Channel | null): Promise<ChannelProvider[]> {
    return this.dataSource.getRepository(ChannelProvider).find({
      where: { tenantId: actor.tenantId, ...(channel ? { channel } : {}) },
      order: { channel: 'ASC', priority: 'ASC', name: 'ASC' },
    });
  }

  async get(actor: Principal, id: string): Promise<ChannelProvider> {
    const provider = await this.dataSource.getRepository(ChannelProvider).findOneBy({ id, tenantId: actor.tenantId });
    if (!provider) throw notFound('Channel provider', id);
    return provider;
  }

  async create(actor: Principal, input: ProviderInput): Promise<ChannelProvider> {
    const repository = this.dataSource.getRepository(ChannelProvider);
    return this.saveClaimingIdentity(
      actor,
      repository.create({
        tenantId: actor.tenantId,
        kind: input.kind,
        channel: CHANNEL_OF[input.kind],
        name: input.name.trim(),
        priority: input.priority ?? 100,
        enabled: input.enabled ?? true,
        rateLimitPerSecond: input.rateLimitPerSecond ?? null,
        minIntervalMs: input.minIntervalMs ?? 0,
        baseUrl: normalizeBaseUrl(input.baseUrl),
        settings: input.settings ?? {},
        credentials: input.credentials ? this.secrets.seal(input.credentials) : '',
      }),
    );
  }

  /** Refuses a base URL, webhook URL or mail server on a loopback, private or link-local address. */
  private async assertReachable(provider: ChannelProvider): Promise<void> {
    const checks: Array<[string, () => Promise<void>]> = [];
    if (provider.baseUrl) checks.push(['baseUrl', () => this.guard.assertUrlAllowed(provider.baseUrl!)]);
    const { url, host, serverUrl } = provider.settings;
    if (typeof url === 'string') checks.push(['settings.url', () => this.guard.assertUrlAllowed(url)]);
    if (typeof serverUrl === 'string') checks.push(['settings.serverUrl', () => this.guard.assertUrlAllowed(serverUrl)]);
    if (typeof host === 'string') checks.push(['settings.host', () => this.guard.assertHostAllowed(host)]);
    for (const [field, check] of checks) {
      try {
        await check();
      } catch (error) {
        if (error instanceof AddressNotAllowedError) throw badInput(error.message, field);
        throw error;
      }
    }
  }

  /** The provider whose inbound identity (e.g. `meta:<phone number id>`) routes a message, in whichever tenant. */
  findByInboundIdentity(identity: string): Promise<ChannelProvider | null> {
    return this.dataSource.getRepository(ChannelProvider).findOneBy({ inboundIdentity: identity });
  }

  /**
   * Saves the provider with the inbound identity its settings claim. One identity belongs
   * to one provider of one tenant: a second claim is CONFLICT, checked first for a clear
   * message and enforced by a unique index against races.
   */
  private async saveClaimingIdentity(actor: Principal, provider: ChannelProvider): Promise<ChannelProvider> {
    await this.assertReachable(provider);
    provider.inboundIdentity = inboundIdentityOf(provider.kind, provider.settings);
    if (provider.inboundIdentity) {
      const holder = await this.findByInboundIdentity(provider.inboundIdentity);
      if (holder && holder.id !== provider.id) throw identityTaken(provider, holder.tenantId === actor.tenantId ? holder : null);
    }
    try {
      return await this.dataSource.getRepository(ChannelProvider).save(provider);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw identityTaken(provider, null);
      throw error;
    }
  }

  async update(actor: Principal, id: string, input: Partial<ProviderInput>): Promise<ChannelProvider> {
    const provider = await this.get(actor, id);
    if (input.kind && input.kind !== provider.kind)
      throw badInput('The kind of a provider cannot change; add a new provider', 'kind');
    if (input.name) provider.name = input.name.trim();
    if (input.priority != null) provider.priority = input.priority;
    if (input.enabled != null) provider.enabled = input.enabled;
    if (input.rateLimitPerSecond !== undefined) provider.rateLimitPerSecond = input.rateLimitPerSecond;
    if (input.minIntervalMs != null) provider.minIntervalMs = input.minIntervalMs;
    if (input.baseUrl !== undefined) provider.baseUrl = normalizeBaseUrl(input.baseUrl);
    if (input.settings) provider.settings = input.settings;
    // Credentials are replaced whole or left alone; they are never read back.
    if (input.credentials) provider.credentials = this.secrets.seal(input.credentials);
    return this.saveClaimingIdentity(actor, provider);
  }

  async remove(actor: Principal, id: string): Promise<boolean> {
    const provider = await this.get(actor, id);
    await this.dataSource.getRepository(ChannelProvider).remove(provider);
    return true;
  }

  /** Enabled providers of a channel in failover order. */
  enabledFor(tenantId: string, channel: Channel): Promise<ChannelProvider[]> {
    return this.dataSource.getRepository(ChannelProvider).find({
      where: { tenantId, channel, enabled: true },
      order: { priority: 'ASC', createdAt: 'ASC' },
    });
  }

  /** The provider with its credentials decrypted, once per loaded row (the dispatcher loads providers per batch). */
  account(provider: ChannelProvider): ProviderAccount {
    let account = this.accounts.get(provider);
    if (!account) {
      account = {
        id: provider.id,
        kind: provider.kind,
        baseUrl: provider.baseUrl,
        settings: provider.settings,
        credentials: this.secrets.open(provider.credentials),
      };
      this.accounts.set(provider, account);
    }
    return account;
  }

  /**
   * Refuses to start with a CREDENTIALS_KEY that cannot read the stored credentials (a
   * changed or mistyped key): every send would fail. Checks a sample of providers.
   */
  async assertCredentialsReadable(sample = 50): Promise<void> {
    const providers = await this.dataSource
      .getRepository(ChannelProvider)
      .createQueryBuilder('p')
      .where(`p.credentials <> ''`)
      .orderBy('p."updatedAt"', 'DESC')
      .limit(sample)
      .getMany();
    const unreadable = providers.filter((provider) => {
      try {
        this.secrets.open(provider.credentials);
        return false;
      } catch {
        return true;
      }
    });
    if (unreadable.length) {
      throw new UnreadableSecretError(
        `CREDENTIALS_KEY is not the key they were saved with (${unreadable.length} of ${providers.length} providers checked, ` +
          `e.g. "${unreadable[0].name}"). Start with the key they were saved with, or re-enter the providers' credentials.`,
      );
    }
  }

  /** One of the provider's credentials, decrypted (for verifying its webhooks); undefined when it has none. */
  credentialOf(provider: ChannelProvider, name: string): string | undefined {
    const value = this.secrets.open(provider.credentials)[name];
    return typeof value === 'string' ? value : undefined;
  }

  /** Whether a status callback carries the provider's `webhookToken` credential. */
  acceptsCallbackToken(provider: ChannelProvider, token: unknown): boolean {
    return verifyCallbackToken(this.credentialOf(provider, 'webhookToken'), token);
  }

  rateOf(provider: ChannelProvider): number | null {
    return provider.rateLimitPerSecond ?? DEFAULT_RATE[provider.kind] ?? null;
  }

  /**
   * Whether this worker may use the provider now: `open` for a closed circuit (everyone),
   * `refused` while it is open; once its cool-down or pause has passed, exactly one caller
   * wins the `probe` (the cool-down is pushed forward atomically, so no one else probes
   * while it is out) and the rest keep skipping. The probe's outcome then decides: a
   * success closes the circuit, a failure keeps it open, a 429 pauses for its Retry-After.
   */
  async admits(provider: ChannelProvider): Promise<'open' | 'probe' | 'refused'> {
    if (!provider.circuitOpenUntil) return 'open';
    const now = this.clock.now();
    if (provider.circuitOpenUntil > now) return 'refused';
    // Read with the attempt: another worker (or a successful probe) may have closed the
    // circuit meanwhile, and this copy of the provider, cached for a moment, would not know.
    const [state] = (await this.dataSource.query(
      `WITH probe AS (
         UPDATE channel_provider SET "circuitOpenUntil" = $2 WHERE id = $1 AND "circuitOpenUntil" <= $3 RETURNING id)
       SELECT p."circuitOpenUntil" AS until, EXISTS (SELECT 1 FROM probe) AS won FROM channel_provider p WHERE p.id = $1`,
      [provider.id, new Date(now.getTime() + Math.min(this.circuit.cooldownMs, this.circuit.probeHoldMs)), now],
    )) as Array<{ until: Date | null; won: boolean }>;
    if (!state) return 'refused';
    if (state.won) return 'probe';
    if (state.until !== null) return 'refused';
    provider.circuitOpenUntil = null;
    return 'open';
  }

  async recordSuccess(provider: ChannelProvider): Promise<void> {
    if (provider.consecutiveFailures === 0 && !provider.circuitOpenUntil) return;
    await this.dataSource.query(
      `UPDATE channel_provider SET "consecutiveFailures" = 0, "circuitOpenUntil" = NULL WHERE id = $1`,
      [provider.id],
    );
    provider.consecutiveFailures = 0;
    provider.circuitOpenUntil = null;
  }

  /**
   * A provider that asked us to slow down (429) is skipped until `until`, without counting
   * a failure: it is healthy, only busy. One probe goes through after that, as after a cool-down.
   * Concurrent 429s keep the latest end; a throttled probe sets the end (its own cool-down
   * placeholder must not turn a 1 s Retry-After into a full cool-down).
   */
  async pause(provider: ChannelProvider, until: Date, probe = false): Promise<void> {
    const rows = returningRows<{ circuitOpenUntil: Date | null }>(
      await this.dataSource.query(
        `UPDATE channel_provider
            SET "circuitOpenUntil" = CASE WHEN $3 THEN $2 ELSE GREATEST(coalesce("circuitOpenUntil", $2), $2) END
          WHERE id = $1
      RETURNING "circuitOpenUntil"`,
        [provider.id, until, probe],
      ),
    );
    if (rows[0]) provider.circuitOpenUntil = rows[0].circuitOpenUntil;
  }

  /** Counts a provider failure; at the threshold the circuit opens for the cool-down. */
  async recordFailure(provider: ChannelProvider): Promise<void> {
    const now = this.clock.now();
    const rows = returningRows<{ consecutiveFailures: number; circuitOpenUntil: Date | null }>(
      await this.dataSource.query(
        `UPDATE channel_provider
            SET "consecutiveFailures" = "consecutiveFailures" + 1,
                "circuitOpenUntil" = CASE WHEN "consecutiveFailures" + 1 >= $2 THEN $3::timestamptz ELSE "circuitOpenUntil" END
          WHERE id = $1
      RETURNING "consecutiveFailures", "circuitOpenUntil"`,
        [provider.id, this.circuit.failureThreshold, new Date(now.getTime() + this.circuit.cooldownMs)],
      ),
    );
    if (rows[0]) Object.assign(provider, rows[0]);
  }
}

/**
 * The identity that routes inbound traffic to a provider: Meta's phone number id, or the
 * WhatsApp number of a gateway's device (setting `device`). Other kinds route nothing inbound.
 */
export function inboundIdentityOf(kind: ProviderKind, settings: Record<string, unknown>): string | null {
  const text = (name: string) =>
    typeof settings[name] === 'string' || typeof settings[name] === 'number' ? String(settings[name]).trim() : '';
  if (kind === ProviderKind.META_WHATSAPP) return text('phoneNumberId') ? `meta:${text('phoneNumberId')}` : null;
  if (kind === ProviderKind.FONNTE || kind === ProviderKind.WABLAS) {
    const digits = text('device').replace(/\D/g, '');
    return digits ? `whatsapp-device:${digits}` : null;
  }
  return null;
}

function identityTaken(provider: ChannelProvider, ownHolder: ChannelProvider | null) {
  const what = provider.kind === ProviderKind.META_WHATSAPP ? 'WhatsApp phone number id' : 'WhatsApp device number';
  return conflict(
    ownHolder
      ? `This ${what} is already used by your provider "${ownHolder.name}": update that provider (e.g. its credentials) instead`
      : `This ${what} is registered to another organisation; a number can belong to one organisation only`,
  );
}

function normalizeBaseUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw badInput('baseUrl must be an http(s) URL', 'baseUrl');
  return url.replace(/\/+$/, '');
}
