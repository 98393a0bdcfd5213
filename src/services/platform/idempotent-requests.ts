import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import type { DataSource } from 'typeorm';
import type { Clock } from './clock';
import { DomainError, ErrorCode, badInput } from './errors';
import { returningRows } from './sql';
import type { Transactor, UnitOfWork } from './unit-of-work';

/** A request that carries an idempotency key: who, what endpoint, which key, and its body. */
export interface KeyedRequest {
  tenantId: string;
  /** The endpoint, e.g. `POST /v1/events` or `publishEvents`: a key is one request per endpoint. */
  scope: string;
  key: string;
  body: unknown;
}

/** An idempotency key as clients send it: 1-190 visible ASCII characters (a UUID, say); batches add `:<index>` per item. */
const KEY = /^[\x21-\x7e]{1,190}$/;

/** Refuses a malformed key (BAD_USER_INPUT, naming where it came from); returns it trimmed, or null when none was given. */
export function checkedIdempotencyKey(raw: unknown, field = 'Idempotency-Key'): string | null {
  if (raw === undefined || raw === null) return null;
  const key = typeof raw === 'string' ? raw.trim() : '';
  if (!KEY.test(key)) throw badInput(`${field} must be 1-190 visible ASCII characters, such as a UUID`, field);
  return key;
}

/** SHA-256 of the body in canonical JSON (keys sorted), so the same request always has the same fingerprint. */
export function fingerprintOf(body: unknown): string {
  return createHash('sha256')
    .update(stringify(body) ?? 'null')
    .digest('hex');
}

export class IdempotencyKeyReusedError extends DomainError {
  constructor(key: string) {
    super(
      ErrorCode.IdempotencyKeyReused,
      `The idempotency key "${key}" was already used for a different request; use a new key for a new request`,
      { key },
    );
  }
}

/**
 * Requests made with an idempotency key, kept for `retentionMs`: the work of a first
 * request runs in one transaction with the record of its key and its answer, so a retry
 * after a timeout (the same key and body) gets the first answer again and changes
 * nothing, and the same key with another body is refused. Two copies of one request at
 * once: the second waits for the first's commit at the key's unique index, then answers
 * what the first answered (or runs, if the first rolled back).
 */
export class IdempotentRequests {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly clock: Clock,
  ) {}

  /** Runs `work` once for the request's key; without a key, simply runs it. */
  async once<T>(request: KeyedRequest | null, work: (uow?: UnitOfWork) => Promise<T>): Promise<{ result: T; replayed: boolean }> {
    if (!request) return { result: await work(), replayed: false };
    const fingerprint = fingerprintOf(request.body);
    return this.transactor.run(async (uow) => {
      const claimed = returningRows<{ id: string }>(
        await uow.manager.query(
          `INSERT INTO idempotent_request ("tenantId", scope, key, fingerprint, response, "createdAt")
           VALUES ($1, $2, $3, $4, 'null', $5)
           ON CONFLICT ("tenantId", scope, key) DO NOTHING
           RETURNING id`,
          [request.tenantId, request.scope, request.key, fingerprint, this.clock.now()],
        ),
      );
      if (!claimed.length) {
        const [first] = (await uow.manager.query(
          `SELECT fingerprint, response FROM idempotent_request WHERE "tenantId" = $1 AND scope = $2 AND key = $3`,
          [request.tenantId, request.scope, request.key],
        )) as Array<{ fingerprint: string; response: T }>;
        if (first.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError(request.key);
        return { result: first.response, replayed: true };
      }
      const result = await work(uow);
      await uow.manager.query(`UPDATE idempotent_request SET response = $2 WHERE id = $1`, [
        claimed[0].id,
        JSON.stringify(result ?? null),
      ]);
      return { result, replayed: false };
    });
  }

  /** Forgets keys older than `retentionMs`; returns how many. */
  async prune(retentionMs: number, tenantId: string | null = null): Promise<number> {
    const [, count] = (await this.dataSource.query(
      `DELETE FROM idempotent_request WHERE "createdAt" < $1 AND ($2::uuid IS NULL OR "tenantId" = $2)`,
      [new Date(this.clock.now().getTime() - retentionMs), tenantId],
    )) as [unknown, number];
    return count;
  }
}
