import jwt from 'jsonwebtoken';
import { type KeyObject, createSecretKey } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Contact } from '../../entities/contact.entity';
import { Tenant } from '../../entities/tenant.entity';
import { Role, User } from '../../entities/user.entity';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, badInput, notFound } from '../platform/errors';
import { hashPassword, verifyPassword } from './password';
import type { Principal, StaffPrincipal } from './principal';
import { PrincipalCache } from './principal-cache';
import { SignInThrottle } from './sign-in-throttle';

export interface AuthSettings {
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  customerTokenTtlSeconds: number;
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

interface TokenClaims {
  exp: number;
  sub: string;
  tid: string;
  typ: 'staff' | 'customer';
}

const ISSUER = 'notify-desk';
const INVALID_CREDENTIALS = 'The e-mail address or password is wrong';
/** Tokens whose signature is known good, kept per process (about 300 bytes each). */
const VERIFIED_TOKENS = 10_000;

export class AuthService {
  /** Verified against when no user matches, so a wrong e-mail costs as long as a wrong password. */
  private readonly decoyHash: Promise<string>;
  private readonly throttle: SignInThrottle;
  /**
   * The signing secret as a key object, made once: given a string, jsonwebtoken first tries
   * (and fails) to parse it as a public key on every call, a tenth of a request's CPU.
   */
  private readonly key: KeyObject;
  private readonly verifiedTokens = new Map<string, TokenClaims>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: AuthSettings,
    private readonly clock: Clock,
    /** Principals of recent tokens; it caches only while a process wires its change notices. */
    readonly principals = new PrincipalCache(),
  ) {
    this.decoyHash = hashPassword('decoy-password-for-timing');
    this.throttle = new SignInThrottle(clock);
    this.key = createSecretKey(Buffer.from(settings.jwtSecret, 'utf8'));
  }

  async login(email: string, password: string, tenantSlug?: string, client = 'unknown'): Promise<IssuedToken & { user: User }> {
    const wait = this.throttle.retryAfterMs(email, client);
    if (wait > 0) {
      throw new DomainError(
        ErrorCode.RateLimited,
        `Too many failed sign-ins; try again in ${Math.ceil(wait / 60_000)} minute(s)`,
        {
          retryAfterSeconds: Math.ceil(wait / 1000),
        },
      );
    }
    const query = this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .where('u.email = :email', { email: email.trim().toLowerCase() })
      .andWhere('u.active');
    if (tenantSlug) {
      query.innerJoin(Tenant, 't', 't.id = u."tenantId"').andWhere('t.slug = :slug', { slug: tenantSlug });
    }
    const candidates = await query.getMany();
    const matching: User[] = [];
    for (const user of candidates) {
      if (await verifyPassword(user.passwordHash, password)) matching.push(user);
    }
    if (candidates.length === 0) await verifyPassword(await this.decoyHash, password);
    if (matching.length === 0) {
      this.throttle.recordFailure(email, client);
      throw new DomainError(ErrorCode.Unauthenticated, INVALID_CREDENTIALS);
    }
    this.throttle.recordSuccess(email, client);
    if (matching.length > 1) {
      throw badInput('This e-mail address signs in to several organisations: say which one with `tenant`', 'tenant');
    }
    const user = matching[0];
    return { ...this.sign({ sub: user.id, tid: user.tenantId, typ: 'staff' }, this.settings.accessTokenTtlSeconds), user };
  }

  async issueCustomerToken(actor: StaffPrincipal, contactId: string): Promise<IssuedToken> {
    const contact = await this.dataSource.getRepository(Contact).findOneBy({ id: contactId, tenantId: actor.tenantId });
    if (!contact) throw notFound('Contact', contactId);
    return this.sign({ sub: contact.id, tid: contact.tenantId, typ: 'customer' }, this.settings.customerTokenTtlSeconds);
  }

  /** Resolves a bearer token to who is acting and until when, or fails with UNAUTHENTICATED. */
  async authenticate(token: string): Promise<Principal & { expiresAt: Date }> {
    const claims = this.verified(token);
    const expiresAt = new Date(claims.exp * 1000);
    const cached = this.principals.get(claims.sub);
    if (cached && cached.tenantId === claims.tid && (cached.kind === 'customer') === (claims.typ === 'customer')) {
      return { ...cached, expiresAt };
    }
    const mark = this.principals.mark();
    const principal = await this.lookUp(claims);
    this.principals.set(claims.sub, principal, mark);
    return { ...principal, expiresAt };
  }

  /**
   * The claims of a token signed here and not expired. A client sends the same token with
   * every request: its verified claims are kept (up to VERIFIED_TOKENS, oldest out first),
   * so the signature is checked once per token, and expiry on every use.
   */
  private verified(token: string): TokenClaims {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const known = this.verifiedTokens.get(token);
    if (known && known.exp > now) return known;
    let claims: TokenClaims;
    try {
      claims = jwt.verify(token, this.key, { algorithms: ['HS256'], issuer: ISSUER, clockTimestamp: now }) as TokenClaims;
    } catch (error) {
      const expired = error instanceof jwt.TokenExpiredError;
      throw new DomainError(ErrorCode.Unauthenticated, expired ? 'The access token has expired' : 'The access token is invalid');
    }
    if (this.verifiedTokens.size >= VERIFIED_TOKENS) this.verifiedTokens.delete(this.verifiedTokens.keys().next().value!);
    this.verifiedTokens.set(token, claims);
    return claims;
  }

  /** The principal a token's claims name, as the database has it now. */
  private async lookUp(claims: TokenClaims): Promise<Principal> {
    if (claims.typ === 'customer') {
      const contact = await this.dataSource.getRepository(Contact).findOneBy({ id: claims.sub, tenantId: claims.tid });
      if (!contact) throw new DomainError(ErrorCode.Unauthenticated, 'The access token is invalid');
      return {
        kind: 'customer',
        tenantId: contact.tenantId,
        contactId: contact.id,
        role: Role.CUSTOMER,
        name: contact.name,
      };
    }
    const user = await this.dataSource.getRepository(User).findOneBy({ id: claims.sub, tenantId: claims.tid });
    if (!user || !user.active) throw new DomainError(ErrorCode.Unauthenticated, 'The access token is invalid');
    return {
      kind: 'staff',
      tenantId: user.tenantId,
      userId: user.id,
      role: user.role,
      name: user.name,
      platformAdmin: user.platformAdmin,
    };
  }

  private sign(claims: Omit<TokenClaims, 'exp'>, ttlSeconds: number): IssuedToken {
    const issuedAt = Math.floor(this.clock.now().getTime() / 1000);
    const token = jwt.sign({ ...claims, iat: issuedAt, exp: issuedAt + ttlSeconds }, this.key, {
      algorithm: 'HS256',
      issuer: ISSUER,
    });
    return { token, expiresAt: new Date((issuedAt + ttlSeconds) * 1000) };
  }
}

/** Reads a bearer token from an Authorization header value (case-insensitive scheme). */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}
