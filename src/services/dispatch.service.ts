import type { DataSource } from 'typeorm';
import type { AdapterRegistry } from '../channels';
import type { RateLimiter } from '../channels/rate-limiter';
import type { OutboundMessage, SendOutcome } from '../channels/types';
import { DeliveryStatus } from '../entities/channel';
import type { ChannelProvider } from '../entities/channel-provider.entity';
import { Delivery } from '../entities/delivery.entity';
import { Tenant } from '../entities/tenant.entity';
import type { ChannelProviderService } from './channel-provider.service';
import type { Clock } from './clock';
import type { LiveEvents } from './live-events';
import { returningRows } from './sql';

export interface DispatchSettings {
  batchSize: number;
  leaseMs: number;
  backoffBaseMs: number;
  /** Sends in flight at once within a batch; per-provider pacing still applies. */
  concurrency: number;
}

export interface BatchResult {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  dead: number;
  cancelled: number;
}

type Outcome = 'sent' | 'retried' | 'failed' | 'dead' | 'cancelled';

/**
 * The dispatcher's work, one batch at a time: claim due deliveries with
 * FOR UPDATE SKIP LOCKED (so any number of workers can run), apply test mode, try
 * the channel's providers in priority order (failing over on retryable errors and
 * open circuits, pacing each provider), and record the outcome. A claim is a lease:
 * a worker that dies mid-send leaves rows in `sending`, which the next claim takes
 * back once the lease has run out.
 */
export class DispatchService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly live: LiveEvents,
    private readonly providers: ChannelProviderService,
    private readonly adapters: AdapterRegistry,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly settings: DispatchSettings,
  ) {}

  async dispatchBatch(): Promise<BatchResult> {
    const claimed = await this.claim();
    const result: BatchResult = { claimed: claimed.length, sent: 0, retried: 0, failed: 0, dead: 0, cancelled: 0 };
    if (!claimed.length) return result;
    const tenants = new Map<string, Promise<Tenant | null>>();
    const providerLists = new Map<string, Promise<ChannelProvider[]>>();
    const tenantOf = (id: string) =>
      tenants.get(id) ?? tenants.set(id, this.dataSource.getRepository(Tenant).findOneBy({ id })).get(id)!;
    const providersOf = (delivery: Delivery) => {
      const key = `${delivery.tenantId}:${delivery.channel}`;
      return (
        providerLists.get(key) ?? providerLists.set(key, this.providers.enabledFor(delivery.tenantId, delivery.channel)).get(key)!
      );
    };
    let next = 0;
    const worker = async () => {
      while (next < claimed.length) {
        const delivery = claimed[next++];
        const outcome = await this.dispatchOne(delivery, await tenantOf(delivery.tenantId), await providersOf(delivery));
        result[outcome]++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.concurrency, claimed.length) }, worker));
    return result;
  }

  /** Claims due queued rows and rows whose lease ran out; each claim counts as an attempt. */
  private async claim(): Promise<Delivery[]> {
    const now = this.clock.now();
    const rows = returningRows<Record<string, unknown>>(
      await this.dataSource.query(
        `UPDATE delivery d
            SET status = 'sending', attempts = d.attempts + 1, "leaseUntil" = $2, "updatedAt" = $1
          WHERE d.id IN (
                SELECT id FROM delivery
                 WHERE (status = 'queued' AND "nextAttemptAt" <= $1) OR (status = 'sending' AND "leaseUntil" < $1)
                 ORDER BY "nextAttemptAt"
                 LIMIT $3
                   FOR UPDATE SKIP LOCKED)
      RETURNING d.*`,
        [now, new Date(now.getTime() + this.settings.leaseMs), this.settings.batchSize],
      ),
    );
    return rows.map((row) => this.dataSource.manager.create(Delivery, row as Partial<Delivery>));
  }

  private async dispatchOne(delivery: Delivery, tenant: Tenant | null, providers: ChannelProvider[]): Promise<Outcome> {
    if (delivery.attempts > delivery.maxAttempts) {
      return this.finish(delivery, 'dead', {
        lastErrorCode: 'LEASE_EXPIRED',
        lastErrorMessage: 'A worker stopped while sending; no attempts left',
      });
    }
    const recipient = this.recipientFor(delivery, tenant);
    if (!recipient) {
      return this.finish(delivery, 'cancelled', {
        lastErrorCode: 'TEST_MODE_NO_RECIPIENT',
        lastErrorMessage: `Test mode is on and no ${delivery.channel} test recipient is set`,
      });
    }
    const message: OutboundMessage = {
      deliveryId: delivery.id,
      to: recipient,
      subject: delivery.subject,
      body: delivery.body,
      metaTemplate: delivery.metaTemplate,
    };
    const failures: Array<{ provider: ChannelProvider; outcome: Extract<SendOutcome, { ok: false }> }> = [];
    let skipped = 0;
    for (const provider of providers) {
      if (!(await this.providers.admits(provider))) {
        skipped++;
        continue;
      }
      await this.limiter.acquire(provider.id, this.providers.rateOf(provider), provider.minIntervalMs);
      const outcome = await this.send(provider, message);
      if (outcome.ok) {
        await this.providers.recordSuccess(provider);
        return this.finish(
          delivery,
          'sent',
          {
            providerId: provider.id,
            providerMessageId: outcome.providerMessageId,
            failedOver: failures.length + skipped > 0,
            recipient,
            originalRecipient: recipient === delivery.recipient ? delivery.originalRecipient : delivery.recipient,
            sentAt: this.clock.now(),
            lastErrorCode: null,
            lastErrorMessage: null,
          },
          failures,
          skipped,
        );
      }
      if (outcome.retryable) await this.providers.recordFailure(provider);
      failures.push({ provider, outcome });
      if (!outcome.retryable) return this.finish(delivery, 'failed', errorOf(outcome, provider), failures, skipped);
    }
    const last = failures[failures.length - 1]?.outcome;
    const error = last
      ? errorOf(last, failures[failures.length - 1].provider)
      : providers.length
        ? { lastErrorCode: 'CIRCUIT_OPEN', lastErrorMessage: 'Every provider of the channel is cooling down after failures' }
        : { lastErrorCode: 'NO_PROVIDER', lastErrorMessage: `No enabled ${delivery.channel} provider is configured` };
    if (delivery.attempts >= delivery.maxAttempts) return this.finish(delivery, 'dead', error, failures, skipped);
    const delay = this.backoff(delivery.attempts, last?.retryAfterMs);
    return this.finish(
      delivery,
      'retried',
      { ...error, nextAttemptAt: new Date(this.clock.now().getTime() + delay) },
      failures,
      skipped,
    );
  }

  private async send(provider: ChannelProvider, message: OutboundMessage): Promise<SendOutcome> {
    try {
      return await this.adapters[provider.kind].send(this.providers.account(provider), message);
    } catch (error) {
      // An adapter bug must not strand the delivery: treat it as a retryable provider failure.
      return {
        ok: false,
        retryable: true,
        code: 'ADAPTER_ERROR',
        message: error instanceof Error ? error.message : String(error),
      };
    }
  }

  /** Exponential backoff (base, 2x, 4x, ...) with ±10% jitter, never sooner than the provider's Retry-After. */
  private backoff(attempt: number, retryAfterMs?: number): number {
    const exponential = this.settings.backoffBaseMs * 2 ** (attempt - 1);
    const jittered = exponential * (0.9 + Math.random() * 0.2);
    return Math.max(jittered, retryAfterMs ?? 0);
  }

  /** Test mode sends to the tenant's test recipient of the channel; none set means nothing is sent. */
  private recipientFor(delivery: Delivery, tenant: Tenant | null): string | undefined {
    if (!tenant?.testMode) return delivery.recipient;
    return tenant.testRecipients[delivery.channel] || undefined;
  }

  private async finish(
    delivery: Delivery,
    outcome: Outcome,
    changes: Partial<Delivery>,
    failures: Array<{ provider: ChannelProvider; outcome: Extract<SendOutcome, { ok: false }> }> = [],
    skipped = 0,
  ): Promise<Outcome> {
    const status: Record<Outcome, DeliveryStatus> = {
      sent: DeliveryStatus.SENT,
      retried: DeliveryStatus.QUEUED,
      failed: DeliveryStatus.FAILED,
      dead: DeliveryStatus.DEAD,
      cancelled: DeliveryStatus.CANCELLED,
    };
    const event: Record<Outcome, string> = {
      sent: 'sent',
      retried: 'retry_scheduled',
      failed: 'failed',
      dead: 'dead',
      cancelled: 'cancelled',
    };
    const events: Array<{ type: string; providerId: string | null; providerCode: string | null; message: string | null }> = [];
    if (skipped)
      events.push({
        type: 'circuit_open',
        providerId: null,
        providerCode: null,
        message: `${skipped} provider(s) skipped: circuit open`,
      });
    for (const [index, failure] of failures.entries()) {
      const movesOn = index < failures.length - 1 || outcome === 'sent';
      events.push({
        type: movesOn ? 'failover' : 'attempt_failed',
        providerId: failure.provider.id,
        providerCode: failure.outcome.code,
        message: failure.outcome.message,
      });
    }
    events.push({
      type: event[outcome],
      providerId: changes.providerId ?? null,
      providerCode: changes.lastErrorCode ?? null,
      message:
        outcome === 'retried' ? `Next attempt at ${changes.nextAttemptAt?.toISOString()}` : (changes.lastErrorMessage ?? null),
    });
    const now = this.clock.now();
    const next: Delivery = Object.assign(new Delivery(), delivery, changes, {
      status: status[outcome],
      leaseUntil: null,
      updatedAt: now,
    });
    // One statement: the outcome is written only while this worker still holds the claim
    // (a reclaimed row belongs to someone else now), and its events go with it or not at all.
    const written = returningRows(
      await this.dataSource.query(
        `WITH held AS (
           UPDATE delivery
              SET status = $3, "leaseUntil" = NULL, "updatedAt" = $4, "providerId" = $5, "providerMessageId" = $6, "failedOver" = $7,
                  recipient = $8, "originalRecipient" = $9, "sentAt" = $10, "lastErrorCode" = $11, "lastErrorMessage" = $12, "nextAttemptAt" = $13
            WHERE id = $1 AND status = 'sending' AND attempts = $2
        RETURNING id, "tenantId")
         INSERT INTO delivery_event ("tenantId", "deliveryId", type, "providerId", "providerCode", message, "occurredAt")
         SELECT held."tenantId", held.id, e.type, e."providerId", e."providerCode", e.message, $4
           FROM held, jsonb_to_recordset($14::jsonb) AS e(n int, type text, "providerId" uuid, "providerCode" text, message text)
          ORDER BY e.n
      RETURNING id`,
        [
          delivery.id,
          delivery.attempts,
          next.status,
          now,
          next.providerId,
          next.providerMessageId,
          next.failedOver,
          next.recipient,
          next.originalRecipient,
          next.sentAt,
          next.lastErrorCode,
          next.lastErrorMessage,
          next.nextAttemptAt,
          JSON.stringify(events.map((event, n) => ({ n, ...event }))),
        ],
      ),
    );
    if (written.length) this.live.publish('deliveryStatusChanged', next.tenantId, next);
    return outcome;
  }
}

/** The error to record, with the provider that gave it (the last one tried). */
function errorOf(outcome: Extract<SendOutcome, { ok: false }>, provider: ChannelProvider): Partial<Delivery> {
  return { providerId: provider.id, lastErrorCode: outcome.code, lastErrorMessage: `${provider.name}: ${outcome.message}` };
}
