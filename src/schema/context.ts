import type { Principal } from '../services/directory/principal';
import type { ApiKeyPrincipal } from '../services/events/api-key.service';
import type { Services } from '../services';
import { createLoaders, type Loaders } from './loaders';

/** What every resolver receives: the services and who is acting (null when signed out). */
export interface Context {
  services: Services;
  principal: Principal | null;
  /** The client's address (behind a proxy: the first hop Express trusts). */
  clientAddress?: string;
  /**
   * Why the request's Authorization header was not accepted (expired, malformed...). Only
   * operations that need a principal fail with it: signing in again still works.
   */
  authError?: Error;
  /** A machine client's API key: it may call only operations of its scopes (see requireAuthentication). */
  apiKey?: ApiKeyPrincipal;
  /** The request's `Idempotency-Key` header, as sent (mutations that honour it check it). */
  idempotencyKey?: string;
}

/** Context of a signed-in request (every operation but login). */
export interface AuthedContext extends Context {
  principal: Principal;
  loaders: Loaders;
}

export function createContext(
  services: Services,
  principal: Principal | null,
  clientAddress?: string,
  authError?: Error,
  apiKey?: ApiKeyPrincipal,
  idempotencyKey?: string,
): Context {
  return principal
    ? ({ services, principal, clientAddress, idempotencyKey, loaders: createLoaders(services, principal) } as AuthedContext)
    : { services, principal, clientAddress, authError, apiKey, idempotencyKey };
}
