import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ApiKey, type ApiScope } from '../../entities/api-key.entity';
import type { StaffPrincipal } from '../directory/principal';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, badInput, notFound } from '../platform/errors';

/** Who is acting when a machine client sends an API key. */
export interface ApiKeyPrincipal {
  kind: 'api_key';
  tenantId: string;
  keyId: string;
  name: string;
  scopes: ApiScope[];
}

/** Keys look like nd_<prefix>_<secret>: the prefix finds the row, the whole key is compared by hash. */
const KEY_PATTERN = /^nd_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

const hash = (key: string) => createHash('sha256').update(key).digest('hex');

/** API keys per tenant for machine clients: created by admins, shown once, stored hashed, revocable. */
export class ApiKeyService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  static isApiKey(token: string): boolean {
    return token.startsWith('nd_');
  }

  async create(actor: StaffPrincipal, name: string, scopes: ApiScope[]): Promise<{ apiKey: ApiKey; secret: string }> {
    if (!name.trim()) throw badInput('Give the key a name', 'name');
    if (!scopes.length) throw badInput('Give the key at least one scope', 'scopes');
    const prefix = randomBytes(9).toString('base64').replace(/[+/]/g, '0').slice(0, 12);
    const secret = `nd_${prefix}_${randomBytes(32).toString('base64url')}`;
    const repository = this.dataSource.getRepository(ApiKey);
    const apiKey = await repository.save(
      repository.create({
        tenantId: actor.tenantId,
        name: name.trim(),
        prefix,
        secretHash: hash(secret),
        scopes: [...new Set(scopes)],
        createdById: actor.userId,
        createdAt: this.clock.now(),
        lastUsedAt: null,
        revokedAt: null,
      }),
    );
    return { apiKey, secret };
  }

  list(actor: StaffPrincipal): Promise<ApiKey[]> {
    return this.dataSource.getRepository(ApiKey).find({ where: { tenantId: actor.tenantId }, order: { createdAt: 'DESC' } });
  }

  async revoke(actor: StaffPrincipal, id: string): Promise<ApiKey> {
    const repository = this.dataSource.getRepository(ApiKey);
    const apiKey = await repository.findOneBy({ id, tenantId: actor.tenantId });
    if (!apiKey) throw notFound('API key', id);
    if (!apiKey.revokedAt) {
      apiKey.revokedAt = this.clock.now();
      await repository.update({ id }, { revokedAt: apiKey.revokedAt });
    }
    return apiKey;
  }

  /** The key's principal, or UNAUTHENTICATED for a malformed, unknown or revoked key (all alike). */
  async authenticate(key: string): Promise<ApiKeyPrincipal> {
    const refused = new DomainError(ErrorCode.Unauthenticated, 'The API key is invalid or revoked');
    const match = KEY_PATTERN.exec(key);
    if (!match) throw refused;
    const apiKey = await this.dataSource.getRepository(ApiKey).findOneBy({ prefix: match[1] });
    const given = Buffer.from(hash(key), 'hex');
    const stored = Buffer.from(apiKey?.secretHash ?? '0'.repeat(64), 'hex');
    if (!apiKey || !timingSafeEqual(given, stored) || apiKey.revokedAt) throw refused;
    const now = this.clock.now();
    // To the minute: one write a minute per key, not one per request.
    if (!apiKey.lastUsedAt || now.getTime() - apiKey.lastUsedAt.getTime() > 60_000) {
      await this.dataSource.getRepository(ApiKey).update({ id: apiKey.id }, { lastUsedAt: now });
    }
    return { kind: 'api_key', tenantId: apiKey.tenantId, keyId: apiKey.id, name: apiKey.name, scopes: apiKey.scopes };
  }
}
