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
import type { DeliveryService } from './delivery.service';
import { returningRows } from './sql';
import type { Transactor } from './unit-of-work';

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
    private readonly transactor: Transactor,
    private readonly deliveries: DeliveryService,
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
    await this.transactor.run(async (uow) => {
      // Only the holder of the claim may record an outcome: a reclaimed row belongs to someone else now.
      const held = await uow.manager.query(
        `SELECT 1 FROM delivery WHERE id = $1 AND status = 'sending' AND attempts = $2 FOR UPDATE`,
        [delivery.id, delivery.attempts],
      );
      if (!held.length) return;
      if (skipped)
        await this.deliveries.appendEvent(uow.manager, delivery, 'circuit_open', {
          message: `${skipped} provider(s) skipped: circuit open`,
        });
      for (const [index, failure] of failures.entries()) {
        const movesOn = index < failures.length - 1 || outcome === 'sent';
        await this.deliveries.appendEvent(uow.manager, delivery, movesOn ? 'failover' : 'attempt_failed', {
          providerId: failure.provider.id,
          providerCode: failure.outcome.code,
          message: failure.outcome.message,
        });
      }
      await this.deliveries.transition(uow, delivery, { ...changes, status: status[outcome], leaseUntil: null }, event[outcome], {
        providerId: changes.providerId ?? null,
        providerCode: changes.lastErrorCode ?? null,
        message:
          outcome === 'retried' ? `Next attempt at ${changes.nextAttemptAt?.toISOString()}` : (changes.lastErrorMessage ?? null),
      });
    });
    return outcome;
  }
}

/** The error to record, with the provider that gave it (the last one tried). */
function errorOf(outcome: Extract<SendOutcome, { ok: false }>, provider: ChannelProvider): Partial<Delivery> {
  return { providerId: provider.id, lastErrorCode: outcome.code, lastErrorMessage: `${provider.name}: ${outcome.message}` };
}
