import type { Clock } from '../platform/clock';

/**
 * Slows password guessing: after `maxFailures` failed sign-ins for one e-mail
 * address from one client within `windowMs`, that pair is refused until the window
 * has passed. Keyed by address and client, so a stranger cannot lock a user out
 * from everywhere. Per process: with several API instances each keeps its own count.
 */
export class SignInThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxFailures = 10,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /** Milliseconds until the pair may try again, or 0. */
  retryAfterMs(email: string, client: string): number {
    const entry = this.failures.get(this.key(email, client));
    if (!entry || entry.count < this.maxFailures) return 0;
    return Math.max(0, entry.since + this.windowMs - this.clock.now().getTime());
  }

  recordFailure(email: string, client: string): void {
    const key = this.key(email, client);
    const now = this.clock.now().getTime();
    const entry = this.failures.get(key);
    if (!entry || now - entry.since >= this.windowMs) this.failures.set(key, { count: 1, since: now });
    else entry.count++;
    if (this.failures.size > 100_000) this.prune(now);
  }

  recordSuccess(email: string, client: string): void {
    this.failures.delete(this.key(email, client));
  }

  private key(email: string, client: string): string {
    return `${email.trim().toLowerCase()}\u0000${client}`;
  }

  private prune(now: number): void {
    for (const [key, entry] of this.failures) if (now - entry.since >= this.windowMs) this.failures.delete(key);
  }
}
