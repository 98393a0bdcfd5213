import type { GraphQLResolveInfo } from 'graphql';
import { badInput } from '../services/platform/errors';
import { type KeyedRequest, checkedIdempotencyKey } from '../services/platform/idempotent-requests';
import type { UnitOfWork } from '../services/platform/unit-of-work';
import type { Context } from './context';

/** Description of the `idempotencyKey` argument of the bulk mutations. */
export const IDEMPOTENCY_KEY_ARGUMENT =
  'Makes a retry safe (or send the Idempotency-Key header): the same key with the same arguments answers the first answer again and changes nothing; with other arguments, IDEMPOTENCY_KEY_REUSED. Remembered for 24 hours unless IDEMPOTENCY_RETENTION_HOURS says otherwise.';

/**
 * Runs a mutation once per idempotency key: the `idempotencyKey` argument or the
 * request's `Idempotency-Key` header (both given, they must agree). The key is scoped to
 * the field as the client named it (its alias), so one request may carry several keyed
 * mutations; the arguments are the request body the key stands for. `work` gets the
 * transaction to join and the key.
 */
export async function oncePerKey<T>(
  context: Context,
  info: GraphQLResolveInfo,
  tenantId: string,
  argumentKey: string | null | undefined,
  body: unknown,
  work: (within: UnitOfWork | undefined, key: string | null) => Promise<T>,
): Promise<T> {
  const fromArgument = checkedIdempotencyKey(argumentKey, 'idempotencyKey');
  const fromHeader = checkedIdempotencyKey(context.idempotencyKey);
  if (fromArgument && fromHeader && fromArgument !== fromHeader) {
    throw badInput('The idempotencyKey argument and the Idempotency-Key header differ; send one', 'idempotencyKey');
  }
  const key = fromArgument ?? fromHeader;
  const request: KeyedRequest | null = key ? { tenantId, scope: `${info.fieldName}:${info.path.key}`, key, body } : null;
  return (await context.services.requests.once(request, (within) => work(within, key))).result;
}
