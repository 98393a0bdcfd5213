import type { Principal } from '../services/principal';
import type { Services } from '../services';

/** What every resolver receives: the services and who is acting (null when signed out). */
export interface Context {
  services: Services;
  principal: Principal | null;
}

/** Context of a resolver that the auth middleware has already let through. */
export interface AuthedContext extends Context {
  principal: Principal;
}
