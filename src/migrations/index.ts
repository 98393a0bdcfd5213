import { Initial1795319419695 } from './1795319419695-Initial';

/** Every migration, in order. New migrations are generated with `npm run migration:generate` and added here. */
export const MIGRATIONS = [Initial1795319419695];
