import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { TenantOwned } from './tenant-owned';

/** What a machine client may do with an API key. */
export enum ApiScope {
  EVENTS_WRITE = 'events:write',
  RECORDS_WRITE = 'records:write',
  CONTACTS_WRITE = 'contacts:write',
  USERS_WRITE = 'users:write',
}

registerEnumType(ApiScope, {
  name: 'ApiScope',
  description: 'What an API key allows.',
  valuesConfig: {
    EVENTS_WRITE: { description: 'Send business events (POST /v1/events, publishEvent, publishEvents).' },
    RECORDS_WRITE: { description: 'Upsert business records (upsertBusinessRecords).' },
    CONTACTS_WRITE: { description: 'Import customer contacts (importContacts).' },
    USERS_WRITE: { description: 'Import staff users and their managers (importUsers).' },
  },
});

/** A tenant's key for machine clients (billing, booking, HR systems). Only a hash of the secret is kept. */
@ObjectType({ description: 'A key a machine client uses instead of a sign-in; its secret is shown once, when created.' })
@Entity('api_key')
@Index('api_key_prefix_key', ['prefix'], { unique: true })
@Index('api_key_tenant_idx', ['tenantId', 'createdAt'])
export class ApiKey extends TenantOwned {
  @Field({ description: 'Name shown to admins, e.g. "Billing system".' })
  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Field({ description: 'The start of the key (nd_<prefix>_...), to tell keys apart; not a secret.' })
  @Column({ type: 'varchar', length: 16 })
  prefix!: string;

  /** SHA-256 of the whole key, hex: keys are 256 random bits, so a fast hash is safe. */
  @Column({ type: 'varchar', length: 64 })
  secretHash!: string;

  @Field(() => [ApiScope], { description: 'What the key allows.' })
  @Column({ type: 'text', array: true })
  scopes!: ApiScope[];

  @Field(() => ID, { nullable: true, description: 'Admin who created it.' })
  @Column({ type: 'uuid', nullable: true })
  createdById!: string | null;

  @Field({ description: 'When it was created.' })
  @Column({ type: 'timestamptz' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it was last used (to the minute).' })
  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it was revoked; a revoked key is refused.' })
  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
