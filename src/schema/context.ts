import type { Principal } from '../services/principal';
import type { Services } from '../services';
import { createLoaders, type Loaders } from './loaders';

/** What every resolver receives: the services and who is acting (null when signed out). */
export interface Context {
  services: Services;
  principal: Principal | null;
}

/** Context of a signed-in request (every operation but login). */
export interface AuthedContext extends Context {
  principal: Principal;
  loaders: Loaders;
}

export function createContext(services: Services, principal: Principal | null): Context {
  return principal
    ? ({ services, principal, loaders: createLoaders(services, principal) } as AuthedContext)
    : { services, principal };
}
