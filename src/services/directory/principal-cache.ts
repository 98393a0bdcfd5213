import { performance } from 'node:perf_hooks';
import type { Principal } from './principal';

/** NOTIFY channel a trigger signals on when a user or contact changes in a way a principal shows. */
export const PRINCIPAL_CHANGED_CHANNEL = 'principal_changed';

/** A principal is re-read at least this often, even if a change notice were somehow lost. */
const MAX_AGE_MS = 60_000;
const MAX_ENTRIES = 10_000;

/**
 * The principals behind recent tokens, so a request does not look its user up again. It
 * is exact, not merely short-lived: a trigger on `user` and `contact` NOTIFYs the id of
 * any row whose principal would change (deactivated, role, name, platform rights,
 * deleted), and every API process listening forgets it. The cache is used only while
 * that listener is connected (`listening`); it is emptied whenever the listener connects
 * again, because notices sent while it was away are lost.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, { principal: Principal; at: number }>();
  private listening = false;
  /** Moves on every forget: a lookup that began before a change must not store what it read. */
  private epoch = 0;

  get(id: string): Principal | undefined {
    if (!this.listening) return undefined;
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (performance.now() - entry.at > MAX_AGE_MS) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.principal;
  }

  /** Taken before reading a principal from the database, and handed back to `set`. */
  mark(): number {
    return this.epoch;
  }

  set(id: string, principal: Principal, mark: number): void {
    if (!this.listening || mark !== this.epoch) return;
    // Oldest first out: a Map iterates in insertion order.
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(id, { principal, at: performance.now() });
  }

  forget(id: string): void {
    this.epoch++;
    this.entries.delete(id);
  }

  /** The change notices flow (again): start afresh. */
  connected(): void {
    this.epoch++;
    this.entries.clear();
    this.listening = true;
  }

  /** The notices stopped: every request reads its principal until they flow again. */
  disconnected(): void {
    this.listening = false;
    this.epoch++;
    this.entries.clear();
  }
}
