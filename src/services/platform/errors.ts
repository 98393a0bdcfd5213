/**
 * Domain errors: services throw these and never import GraphQL. The GraphQL edge
 * (src/schema/format-error.ts) maps `code` to `extensions.code` in one place.
 */
export enum ErrorCode {
  BadUserInput = 'BAD_USER_INPUT',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  InvalidTransition = 'INVALID_TRANSITION',
  RateLimited = 'RATE_LIMITED',
  /** An idempotency key sent again with a different request. */
  IdempotencyKeyReused = 'IDEMPOTENCY_KEY_REUSED',
  /** Free text to a WhatsApp customer whose 24-hour service window is closed, with nothing else to carry it. */
  OutsideServiceWindow = 'OUTSIDE_SERVICE_WINDOW',
  /** A provider's API refused the request or could not be reached (its code in `providerCode`). */
  ProviderRefused = 'PROVIDER_REFUSED',
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, id: string): DomainError =>
  new DomainError(ErrorCode.NotFound, `${what} ${id} was not found`, { id });

/**
 * BAD_USER_INPUT about one field (a path such as `audience.contactIds[0]`), optionally with
 * what is wrong as a code (`TOO_LONG`); clients read it as `extensions.problems`.
 */
export const badInput = (message: string, field?: string, problemCode?: string): DomainError =>
  new DomainError(ErrorCode.BadUserInput, message, { ...(field ? { field } : {}), ...(problemCode ? { problemCode } : {}) });

export const forbidden = (message = 'You are not allowed to do this'): DomainError =>
  new DomainError(ErrorCode.Forbidden, message);

export const conflict = (message: string): DomainError => new DomainError(ErrorCode.Conflict, message);

/** Refuses a reporting period whose start is not before its end. */
export function assertPeriod(from: Date, to: Date): void {
  if (from >= to) throw badInput('`from` must be before `to`', 'from');
}

/** Refuses a bulk call over its limit before anything is read or written: BAD_USER_INPUT with the limit. */
export function assertBatchLimit(count: number, limit: number, field: string, noun: string): void {
  if (count > limit) {
    throw new DomainError(ErrorCode.BadUserInput, `A call holds at most ${limit.toLocaleString('en')} ${noun} (got ${count})`, {
      field,
      limit,
    });
  }
}
