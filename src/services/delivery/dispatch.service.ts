import type { DataSource } from 'typeorm';
import type { AdapterRegistry } from '../../channels';
import type { SendPacer } from '../../channels/shared-rate-limiter';
import { type OutboundMessage, type SendFailure, type SendOutcome, providerFault } from '../../channels/types';
import { Channel, DeliveryStatus } from '../../entities/channel';
import type { ChannelProvider } from '../../entities/channel-provider.entity';
import { DeliveryEventType } from '../../entities/delivery-event.entity';
import { Delivery } from '../../entities/delivery.entity';
import { Tenant } from '../../entities/tenant.entity';
import type { ChannelProviderService } from './channel-provider.service';
import type { Clock } from '../platform/clock';
import { type DeliveryHistory, type HistoryStep, OutcomeWriter } from './delivery-history';
import { type ProviderState, providerState } from './routing';
import {
  OUTSIDE_SERVICE_WINDOW,
  type ServiceWindowService,
  type Windows,
  enforcesWindow,
  parseWindows,
  whatsappForm,
  windowsOfRecipient,
} from './service-window';
import { type MetaTemplateService, parseStatuses, templateStatusesOf, templateUsable } from './meta-templates';
import { replyOptionsFor } from './reply-options';
import { MEDIA_LINK_TTL_SECONDS, outboundMedia, withLinkInText } from './outbound-media';
import type { FileService } from '../files/file.service';
import { UnreadableSecretError } from '../platform/secret-box';
import { hotRows, isConnectionLoss } from '../platform/sql';

export interface DispatchSettings {
  batchSize: number;
  leaseMs: number;
  backoffBaseMs: number;
  /** Sends in flight at once within one `dispatchBatch`. */
  concurrency: number;
  /** Sends in flight at once to one provider from this process; a provider with recent failures gets one. */
  providerMaxInFlight: number;
  /** How much later a delivery is tried again when its provider has no room (this is not an attempt). */
  busyRetryMs: number;
  /** How long a provider that answered 429 without Retry-After is paused. */
  throttlePauseMs: number;
  /** A provider whose every request in flight has been out this long is passed over as failing (PROVIDER_SLOW_MS). */
  providerSlowMs: number;
}

export interface BatchResult {
  claimed: number;
  sent: number;
  retried: number;
  deferred: number;
  failed: number;
  dead: number;
  cancelled: number;
  expired: number;
}

export type Outcome = 'sent' | 'retried' | 'deferred' | 'failed' | 'dead' | 'cancelled' | 'expired';

const STATUS_OF: Record<Outcome, DeliveryStatus> = {
  sent: DeliveryStatus.SENT,
  retried: DeliveryStatus.QUEUED,
  deferred: DeliveryStatus.QUEUED,
  failed: DeliveryStatus.FAILED,
  dead: DeliveryStatus.DEAD,
  cancelled: DeliveryStatus.CANCELLED,
  expired: DeliveryStatus.EXPIRED,
};

const EVENT_OF: Record<Outcome, DeliveryEventType> = {
  sent: DeliveryEventType.SENT,
  retried: DeliveryEventType.RETRY_SCHEDULED,
  deferred: DeliveryEventType.DEFERRED,
  failed: DeliveryEventType.FAILED,
  dead: DeliveryEventType.DEAD,
  cancelled: DeliveryEventType.CANCELLED,
  expired: DeliveryEventType.EXPIRED,
};

interface Tried {
  provider: ChannelProvider;
  outcome: SendFailure;
}

/** A provider passed over in an attempt, and why. */
interface Skipped {
  provider: ChannelProvider;
  reason: 'circuit open' | 'slow' | 'busy' | 'not answering' | 'outside window';
}

/** Skipped for a reason that passes: the message may go through it later. */
const passing = (skip: Skipped) => skip.reason !== 'circuit open' && skip.reason !== 'outside window';

/** How long a send waits for a slot of a provider at its in-flight limit before going back to the queue. */
const BUSY_WAIT_MS = 250;

/** Tenants and provider lists are read at most once a second per process, and shared by concurrent sends. */
const LOOKUP_TTL_MS = 1000;

/**
 * The dispatcher's work: claim due deliveries with FOR UPDATE SKIP LOCKED (so any number
 * of workers can run), apply test mode, try the channel's providers in priority order
 * and record the outcome. A claim is a lease: a worker that dies mid-send leaves rows in
 * `sending`, which a later claim takes back once the lease has run out.
 *
 * Only real sends count as attempts. A provider whose circuit is open is skipped; one
 * that asks to slow down (429) is paused until its Retry-After; a provider with no room
 * (its in-flight limit reached, e.g. because it hangs) holds back only its own messages.
 * When nothing was really sent the delivery is deferred, not charged an attempt.
 */
export class DispatchService {
  private readonly inFlight = new Map<string, number>();
  /** Per provider: when each request now out to it started, and when the last one came back (monotonic ms). */
  private readonly requests = new Map<string, { started: number[]; lastDone: number | undefined }>();
  /** Sends waiting for a slot of a full provider, longest first. */
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly lookups = new Map<string, { at: number; value: Promise<unknown> }>();
  /** Outcomes are written in batches: one statement for every send that finished in the same moment. */
  private readonly outcomes: OutcomeWriter;
  /** The service windows of a claim's WhatsApp recipients, read in one statement with the claim. */
  private readonly claimedWindows = new WeakMap<Delivery, Windows>();
  /** What Meta last said of a claimed message's template, by provider, read with the claim. */
  private readonly claimedTemplates = new WeakMap<Delivery, ReadonlyMap<string, string>>();

  constructor(
    private readonly dataSource: DataSource,
    history: DeliveryHistory,
    private readonly providers: ChannelProviderService,
    private readonly windows: ServiceWindowService,
    private readonly metaTemplates: MetaTemplateService,
    private readonly adapters: AdapterRegistry,
    private readonly limiter: SendPacer,
    private readonly clock: Clock,
    private readonly settings: DispatchSettings,
    private readonly files: FileService,
  ) {
    this.outcomes = new OutcomeWriter(history);
  }

  /**
   * Claims one batch and sends it with bounded concurrency (tests and benchmarks drive the
   * dispatcher this way). Every send of a batch has finished when it returns, so a delivery
   * that found its provider full is due again at once, for the next batch.
   */
  async dispatchBatch(): Promise<BatchResult> {
    const claimed = await this.claim(this.settings.batchSize);
    const result: BatchResult = {
      claimed: claimed.length,
      sent: 0,
      retried: 0,
      deferred: 0,
      failed: 0,
      dead: 0,
      cancelled: 0,
      expired: 0,
    };
    let next = 0;
    const worker = async () => {
      while (next < claimed.length) result[await this.dispatchOne(claimed[next++], 0)]++;
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.concurrency, claimed.length) }, worker));
    return result;
  }

  /**
   * Claims up to `limit` rows whose lease ran out, then due queued rows. Taking back an
   * expired lease charges the attempt its worker was making when it stopped: whether the
   * provider saw it is unknown, and a message that kills workers must not loop forever.
   */
  async claim(limit: number): Promise<Delivery[]> {
    const now = this.clock.now();
    // A prepared statement: it runs hundreds of times a second under load.
    const rows = await hotRows<Record<string, unknown>>(
      this.dataSource,
      // Each kind of due row is read from its own partial index, in its order, up to the
      // limit: an OR of both sorted by one column scanned and sorted the whole queue on
      // every claim (4 ms with 20,000 queued, against 1 ms). The ids go in as an array, so
      // the update finds them by primary key instead of joining the table.
      `WITH expired AS (
                SELECT id FROM delivery WHERE status = 'sending' AND "leaseUntil" < $1
                 ORDER BY "leaseUntil" LIMIT $3 FOR UPDATE SKIP LOCKED),
              due AS (
                SELECT id FROM delivery WHERE status = 'queued' AND "nextAttemptAt" <= $1
                 ORDER BY "nextAttemptAt" LIMIT $3 - (SELECT count(*) FROM expired) FOR UPDATE SKIP LOCKED)
         UPDATE delivery d
            SET status = 'sending', attempts = d.attempts + CASE WHEN d.status = 'sending' THEN 1 ELSE 0 END,
                "leaseUntil" = $2, "updatedAt" = $1
          WHERE d.id = ANY(ARRAY(SELECT id FROM expired UNION ALL SELECT id FROM due))
      RETURNING d.*, ${windowsOfRecipient('d')} AS "serviceWindows", ${templateStatusesOf('d')} AS "templateStatuses"`,
      [now, new Date(now.getTime() + this.settings.leaseMs), limit],
    );
    const claimed = rows.map((row) => {
      const { serviceWindows, templateStatuses, ...columns } = row;
      const delivery = this.dataSource.manager.create(Delivery, columns as Partial<Delivery>);
      // Read with the claim, not in statements of their own: the dispatcher's hot path.
      if (delivery.channel === Channel.WHATSAPP) this.claimedWindows.set(delivery, parseWindows(serviceWindows));
      if (delivery.metaTemplate) this.claimedTemplates.set(delivery, parseStatuses(templateStatuses));
      return delivery;
    });
    return claimed;
  }

  /** The recipient's service windows, when a provider of the list holds WhatsApp to them. */
  private async windowsFor(delivery: Delivery, recipient: string, providers: ChannelProvider[]): Promise<Windows> {
    if (delivery.channel !== Channel.WHATSAPP || !providers.some(enforcesWindow)) return new Map();
    const claimed = recipient === delivery.recipient ? this.claimedWindows.get(delivery) : undefined;
    return claimed ?? this.windows.windowsFor(delivery.tenantId, recipient);
  }

  /**
   * Sends one claimed delivery through its providers and records what happened. A delivery
   * whose provider has no room goes back to the queue for `busyRetryMs`. When the database
   * connection is lost before any provider saw the message, the delivery goes back to the
   * queue at once, not charged, instead of waiting out its lease and paying an attempt; once
   * a provider may have seen it, only the lease can tell (an unknown outcome is charged).
   */
  async dispatchOne(delivery: Delivery, busyRetryMs = this.settings.busyRetryMs): Promise<Outcome> {
    const reached = { provider: false };
    try {
      return await this.attempt(delivery, busyRetryMs, reached);
    } catch (error) {
      if (reached.provider || !isConnectionLoss(error)) throw error;
      return this.finish(delivery, 'deferred', {
        nextAttemptAt: this.later(this.settings.busyRetryMs),
        lastErrorCode: 'DATABASE_UNAVAILABLE',
        lastErrorMessage: 'The database connection was lost before sending; not charged an attempt',
      });
    }
  }

  private async attempt(delivery: Delivery, busyRetryMs: number, reached: { provider: boolean }): Promise<Outcome> {
    if (delivery.validUntil <= this.clock.now()) {
      return this.finish(delivery, 'expired', {
        lastErrorCode: 'EXPIRED',
        lastErrorMessage: `Not sent: it was worth sending until ${delivery.validUntil.toISOString()}`,
      });
    }
    if (delivery.attempts >= delivery.maxAttempts) {
      return this.finish(delivery, 'dead', {
        lastErrorCode: 'LEASE_EXPIRED',
        lastErrorMessage: 'A worker stopped while sending; no attempts left',
      });
    }
    const [tenant, providers] = await Promise.all([
      this.cached(`tenant:${delivery.tenantId}`, () =>
        this.dataSource.getRepository(Tenant).findOneBy({ id: delivery.tenantId }),
      ),
      this.cached(`providers:${delivery.tenantId}:${delivery.channel}`, () =>
        this.providers.enabledFor(delivery.tenantId, delivery.channel),
      ),
    ]);
    const recipient = this.recipientFor(delivery, tenant);
    if (!recipient) {
      return this.finish(delivery, 'cancelled', {
        lastErrorCode: 'TEST_MODE_NO_RECIPIENT',
        lastErrorMessage: `Test mode is on and no ${delivery.channel} test recipient is set`,
      });
    }
    if (!providers.length) {
      return this.failedAttempt(delivery, [], [], {
        lastErrorCode: 'NO_PROVIDER',
        lastErrorMessage: `No enabled ${delivery.channel} provider is configured`,
      });
    }
    const text: OutboundMessage = {
      deliveryId: delivery.id,
      to: recipient,
      subject: delivery.subject,
      body: delivery.body,
      metaTemplate: null,
      replyOptions: replyOptionsFor(delivery.notificationType),
      media: delivery.attachment?.fileId
        ? outboundMedia(
            delivery.attachment,
            this.files.providerLink(delivery.id, delivery.attachment.fileId, MEDIA_LINK_TTL_SECONDS),
          )
        : null,
      unsubscribeUrl: delivery.unsubscribeUrl,
    };
    const template: OutboundMessage = { ...text, metaTemplate: delivery.metaTemplate };
    const windows = await this.windowsFor(delivery, recipient, providers);
    const templates = delivery.metaTemplate
      ? (this.claimedTemplates.get(delivery) ??
        (await this.metaTemplates.statusesOf(delivery.tenantId, delivery.metaTemplate.name, delivery.metaTemplate.language)))
      : new Map<string, string>();
    const now = this.clock.now();
    /**
     * Free text or the approved template through this provider, or nothing (outside the
     * window, no template Meta has not paused or rejected).
     */
    const formFor = (provider: ChannelProvider) =>
      delivery.channel === Channel.WHATSAPP
        ? whatsappForm(
            provider,
            windows.get(provider.id),
            now,
            delivery.metaTemplate !== null && templateUsable(templates.get(provider.id)),
          )
        : 'text';
    const tried: Tried[] = [];
    const skipped: Skipped[] = [];

    /** Sends through a provider whose slot it holds: the outcome to finish with, or undefined to go on. */
    const through = async (provider: ChannelProvider, message: OutboundMessage = text): Promise<Outcome | undefined> => {
      let outcome: SendOutcome;
      let admission: 'open' | 'probe' | 'refused';
      try {
        admission = await this.providers.admits(provider);
        if (admission === 'refused') {
          skipped.push({ provider, reason: 'circuit open' });
          return undefined;
        }
        reached.provider = true;
        outcome = await this.sendThrough(provider, message);
      } finally {
        this.leave(provider);
      }
      if (outcome.ok) {
        await this.bookkeeping(this.providers.recordSuccess(provider));
        return this.finish(
          delivery,
          'sent',
          {
            attempts: delivery.attempts + 1,
            providerId: provider.id,
            providerMessageId: outcome.providerMessageId,
            failedOver: provider.id !== providers[0].id,
            recipient,
            originalRecipient: recipient === delivery.recipient ? delivery.originalRecipient : delivery.recipient,
            sentAt: this.clock.now(),
            lastErrorCode: null,
            lastErrorMessage: null,
          },
          history(tried, skipped, true),
        );
      }
      tried.push({ provider, outcome });
      if (outcome.kind === 'throttled') {
        await this.bookkeeping(
          this.providers.pause(
            provider,
            this.later(outcome.retryAfterMs ?? this.settings.throttlePauseMs),
            admission === 'probe',
          ),
        );
        return undefined;
      }
      if (outcome.kind === 'window') {
        // Meta says the window is closed (the product had not seen it so): the template, if any, goes now.
        await this.bookkeeping(this.providers.recordSuccess(provider));
        if (message !== template && delivery.metaTemplate && this.enter(provider)) return through(provider, template);
        return undefined;
      }
      if (outcome.kind === 'recipient') {
        // The provider answered, about this recipient only: it is healthy, and this message
        // alone waits (its Retry-After or backoff); its circuit and other messages are untouched.
        await this.bookkeeping(this.providers.recordSuccess(provider));
        return this.failedAttempt(delivery, tried, skipped, errorOf(outcome, provider));
      }
      if (outcome.kind === 'rejected') {
        return this.finish(
          delivery,
          'failed',
          { attempts: delivery.attempts + 1, ...errorOf(outcome, provider) },
          history(tried, skipped, false),
        );
      }
      await this.bookkeeping(this.providers.recordFailure(provider));
      return undefined;
    };

    // In priority order, through the first provider with room. One whose every request has
    // been out past PROVIDER_SLOW_MS (hung, not yet timed out) is passed over as failing.
    // One that is full and answers nothing (its slots all held by a hang) is passed over at
    // once; one that is full but answering is waited for, a moment, then the message waits
    // in the queue: a busy or paced primary keeps its traffic, a backup takes only what the
    // primary cannot carry.
    // A Meta number outside the customer's window with no template cannot carry it at all.
    const slow: ChannelProvider[] = [];
    const usable = (provider: ChannelProvider) => !this.circuitOpen(provider) && formFor(provider) !== 'none';
    for (const [index, provider] of providers.entries()) {
      if (formFor(provider) === 'none') {
        skipped.push({ provider, reason: 'outside window' });
        continue;
      }
      if (this.circuitOpen(provider)) {
        skipped.push({ provider, reason: 'circuit open' });
        continue;
      }
      const hasAlternative = providers.slice(index + 1).some(usable);
      const state = this.stateOf(provider, hasAlternative);
      if (state === 'slow') {
        slow.push(provider);
        continue;
      }
      if (!(await this.enterSoon(provider, busyRetryMs > 0 && state === 'healthy' ? BUSY_WAIT_MS : 0))) {
        if (this.stateOf(provider, hasAlternative) !== 'healthy') {
          skipped.push({ provider, reason: 'not answering' });
          continue;
        }
        skipped.push({ provider, reason: 'busy' });
        break;
      }
      const outcome = await through(provider, formFor(provider) === 'template' ? template : text);
      if (outcome) return outcome;
    }
    // No other provider could even be tried: a slow one is still better than none.
    if (!tried.length && !skipped.some(passing)) {
      for (const provider of slow) {
        if (!this.enter(provider)) continue;
        const outcome = await through(provider, formFor(provider) === 'template' ? template : text);
        if (outcome) return outcome;
      }
    }
    skipped.push(...slow.map((provider) => ({ provider, reason: 'slow' as const })));
    if (this.windowBound(tried, skipped, providers)) {
      return this.finish(
        delivery,
        'failed',
        {
          attempts: delivery.attempts + (tried.length ? 1 : 0),
          lastErrorCode: OUTSIDE_SERVICE_WINDOW,
          lastErrorMessage:
            "Outside the customer's 24-hour WhatsApp service window, with no approved Meta template and no provider that sends free text",
        },
        history(tried, skipped, false),
      );
    }
    if (tried.some(({ outcome }) => outcome.kind !== 'throttled')) {
      const last = tried[tried.length - 1];
      return this.failedAttempt(delivery, tried, skipped, errorOf(last.outcome, last.provider));
    }
    if (skipped.some(passing)) {
      // Providers with no room (slow, hanging or full): back to the queue shortly, quietly (often, under load).
      return this.finish(delivery, 'deferred', { nextAttemptAt: this.later(busyRetryMs) }, []);
    }
    return this.deferUntilAvailable(delivery, providers, tried, skipped);
  }

  /**
   * Whether only the service window stands in the way: every provider either cannot carry it
   * (outside the window, no template) or told us so (131047), and none is merely paused.
   */
  private windowBound(tried: Tried[], skipped: Skipped[], providers: ChannelProvider[]): boolean {
    const refused = new Set([
      ...skipped.filter((skip) => skip.reason === 'outside window').map((skip) => skip.provider.id),
      ...tried.filter(({ outcome }) => outcome.kind === 'window').map(({ provider }) => provider.id),
    ]);
    // Any other answer (a transient failure of the template itself, a gateway's error) is worth a retry.
    const triedElse = tried.some(({ outcome }) => outcome.kind !== 'window');
    return refused.size > 0 && !triedElse && providers.every((provider) => refused.has(provider.id));
  }

  /** A send that reached providers and failed: retry with backoff, or dead when no attempts are left. */
  private failedAttempt(delivery: Delivery, tried: Tried[], skipped: Skipped[], error: Partial<Delivery>): Promise<Outcome> {
    const attempts = delivery.attempts + 1;
    const steps = history(tried, skipped, false);
    if (attempts >= delivery.maxAttempts) return this.finish(delivery, 'dead', { attempts, ...error }, steps);
    const retryAfter = Math.max(0, ...tried.map(({ outcome }) => outcome.retryAfterMs ?? 0));
    return this.finish(
      delivery,
      'retried',
      { attempts, ...error, nextAttemptAt: this.later(this.backoff(attempts, retryAfter)) },
      steps,
    );
  }

  /** Every usable provider was skipped or asked to wait: try again when the first can take it, no attempt charged. */
  private deferUntilAvailable(
    delivery: Delivery,
    providers: ChannelProvider[],
    tried: Tried[],
    skipped: Skipped[],
  ): Promise<Outcome> {
    const now = this.clock.now().getTime();
    const reopen = providers.map((provider) =>
      provider.circuitOpenUntil && provider.circuitOpenUntil.getTime() > now ? provider.circuitOpenUntil.getTime() : now,
    );
    const at = new Date(Math.max(Math.min(...reopen), now + this.settings.busyRetryMs));
    const last = tried[tried.length - 1];
    return this.finish(
      delivery,
      'deferred',
      {
        nextAttemptAt: at,
        ...(last
          ? errorOf(last.outcome, last.provider)
          : {
              lastErrorCode: 'CIRCUIT_OPEN',
              lastErrorMessage:
                'Every provider of the channel is paused (cooling down after failures, or asked to slow down); not charged an attempt',
            }),
      },
      [
        ...history(tried, skipped, false),
        { type: DeliveryEventType.DEFERRED, providerId: null, providerCode: null, message: `Next try at ${at.toISOString()}` },
      ],
    );
  }

  /**
   * A provider's circuit bookkeeping after a send. With the database gone it is skipped:
   * what the provider answered must still be written (the outcome writer retries on a new
   * connection), or a sent message would be sent again once its lease ran out.
   */
  private async bookkeeping(work: Promise<void>): Promise<void> {
    try {
      await work;
    } catch (error) {
      if (!isConnectionLoss(error)) throw error;
    }
  }

  private circuitOpen(provider: ChannelProvider): boolean {
    return provider.circuitOpenUntil !== null && provider.circuitOpenUntil > this.clock.now();
  }

  /** Slow, stalled or healthy for routing, from this process's requests to it (see routing.ts). */
  private stateOf(provider: ChannelProvider, hasAlternative: boolean): ProviderState {
    return providerState(this.requests.get(provider.id), performance.now(), hasAlternative, {
      providerSlowMs: this.settings.providerSlowMs,
      stallMs: BUSY_WAIT_MS,
    });
  }

  /**
   * Takes one of the provider's in-flight places (its limit, or one while it is failing),
   * at once and before any await, so concurrent sends cannot all pass the check.
   */
  private enter(provider: ChannelProvider): boolean {
    const limit = provider.consecutiveFailures > 0 ? 1 : this.settings.providerMaxInFlight;
    const current = this.inFlight.get(provider.id) ?? 0;
    if (current >= limit) return false;
    this.inFlight.set(provider.id, current + 1);
    return true;
  }

  /**
   * A slot of the provider, waiting up to `waitMs` for one to free up: a provider that is
   * merely full (fast, at its in-flight limit) hands its next free slot to the longest
   * waiter, where deferring for a second would cut a busy provider to a trickle; a hanging
   * one frees none, and its messages go back to the queue after the wait.
   */
  private enterSoon(provider: ChannelProvider, waitMs: number): Promise<boolean> {
    if (this.enter(provider)) return Promise.resolve(true);
    if (waitMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const queue = this.waiters.get(provider.id) ?? [];
      const handOver = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const index = queue.indexOf(handOver);
        if (index >= 0) queue.splice(index, 1);
        if (!queue.length) this.waiters.delete(provider.id);
        resolve(false);
      }, waitMs);
      queue.push(handOver);
      this.waiters.set(provider.id, queue);
    });
  }

  private leave(provider: ChannelProvider): void {
    // The slot goes straight to the longest waiter, if any: the count stays the same.
    const queue = this.waiters.get(provider.id);
    const next = queue?.shift();
    if (queue && !queue.length) this.waiters.delete(provider.id);
    if (next) return next();
    const left = (this.inFlight.get(provider.id) ?? 1) - 1;
    if (left > 0) this.inFlight.set(provider.id, left);
    else this.inFlight.delete(provider.id);
  }

  private async sendThrough(provider: ChannelProvider, message: OutboundMessage): Promise<SendOutcome> {
    let traffic: { started: number[]; lastDone: number | undefined } | undefined;
    let started = 0;
    try {
      await this.limiter.acquire(provider.id, this.providers.rateOf(provider), provider.minIntervalMs);
      // Timed from the request itself, not the wait for a rate slot: a paced provider is not a slow one.
      traffic = this.requests.get(provider.id) ?? { started: [], lastDone: undefined };
      this.requests.set(provider.id, traffic);
      started = performance.now();
      traffic.started.push(started);
      const adapter = this.adapters[provider.kind];
      return await adapter.send(this.providers.account(provider), adapter.sendsMedia ? message : withLinkInText(message));
    } catch (error) {
      // Credentials this key cannot read belong to the provider: the next one may have readable ones.
      if (error instanceof UnreadableSecretError) return providerFault('CREDENTIALS_UNREADABLE', error.message);
      // An adapter bug must not strand the delivery: treat it as a transient provider failure.
      return {
        ok: false,
        kind: 'transient',
        code: 'ADAPTER_ERROR',
        message: error instanceof Error ? error.message : String(error),
      };
    } finally {
      if (traffic) {
        traffic.started.splice(traffic.started.indexOf(started), 1);
        traffic.lastDone = performance.now();
      }
    }
  }

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.lookups.get(key);
    if (hit && now - hit.at < LOOKUP_TTL_MS) return hit.value as Promise<T>;
    if (this.lookups.size > 10_000) this.lookups.clear();
    const value = load();
    this.lookups.set(key, { at: now, value });
    value.catch(() => this.lookups.delete(key));
    return value;
  }

  private later(ms: number): Date {
    return new Date(this.clock.now().getTime() + ms);
  }

  /** Exponential backoff (base, 2x, 4x, ...) with ±10% jitter, never sooner than the provider's Retry-After. */
  private backoff(attempt: number, retryAfterMs: number): number {
    const exponential = this.settings.backoffBaseMs * 2 ** (attempt - 1);
    const jittered = exponential * (0.9 + Math.random() * 0.2);
    return Math.max(jittered, retryAfterMs);
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
    steps: HistoryStep[] = [],
  ): Promise<Outcome> {
    const final: HistoryStep[] =
      outcome === 'deferred'
        ? []
        : [
            {
              type: EVENT_OF[outcome],
              providerId: changes.providerId ?? null,
              providerCode: changes.lastErrorCode ?? null,
              message:
                outcome === 'retried'
                  ? `Next attempt at ${changes.nextAttemptAt?.toISOString()}`
                  : (changes.lastErrorMessage ?? null),
            },
          ];
    const next: Delivery = Object.assign(new Delivery(), delivery, changes, { status: STATUS_OF[outcome], leaseUntil: null });
    // Never due after its validity: it is claimed then, and expires instead of going out late.
    if (next.status === DeliveryStatus.QUEUED && next.nextAttemptAt > delivery.validUntil)
      next.nextAttemptAt = delivery.validUntil;
    await this.outcomes.write({ claimed: delivery, next, steps: [...steps, ...final] });
    return outcome;
  }
}

/** The steps an attempt took before its outcome: skipped providers, throttles and failovers. */
function history(tried: Tried[], skipped: Skipped[], delivered: boolean): HistoryStep[] {
  const steps: HistoryStep[] = [];
  if (skipped.length) {
    steps.push({
      type: DeliveryEventType.CIRCUIT_OPEN,
      providerId: null,
      providerCode: null,
      message: `${skipped.length} provider(s) skipped: ${skipped.map(({ provider, reason }) => `${provider.name} (${reason})`).join(', ')}`,
    });
  }
  for (const [index, { provider, outcome }] of tried.entries()) {
    const movesOn = index < tried.length - 1 || delivered;
    steps.push({
      type:
        outcome.kind === 'throttled'
          ? DeliveryEventType.THROTTLED
          : movesOn
            ? DeliveryEventType.FAILOVER
            : DeliveryEventType.ATTEMPT_FAILED,
      providerId: provider.id,
      providerCode: outcome.code,
      message: outcome.message,
    });
  }
  return steps;
}

/** The error to record, with the provider that gave it (the last one tried). */
function errorOf(outcome: SendFailure, provider: ChannelProvider): Partial<Delivery> {
  return { providerId: provider.id, lastErrorCode: outcome.code, lastErrorMessage: `${provider.name}: ${outcome.message}` };
}
