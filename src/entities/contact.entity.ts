import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ObjectType } from 'type-graphql';
import { Channel } from './channel';
import { TenantOwned } from './tenant-owned';
import { Column, CreateDateColumn, Entity, Index, UpdateDateColumn } from 'typeorm';

/** What a contact agreed to on one channel, when, and where that came from. */
export interface ConsentRecord {
  granted: boolean;
  at: string;
  source: string;
}

@ObjectType({ description: 'A customer of the tenant.' })
@Entity('contact')
@Index('contact_tenant_phone_idx', ['tenantId', 'phone'])
@Index('contact_tenant_email_idx', ['tenantId', 'email'])
@Index('contact_tenant_id_idx', ['tenantId', 'id'])
@Index('contact_tenant_external_id_key', ['tenantId', 'externalId'], { unique: true, where: '"externalId" IS NOT NULL' })
export class Contact extends TenantOwned {
  @Field(() => String, { nullable: true, description: "The contact's id in the tenant's own system (CRM, billing); unique." })
  @Column({ type: 'varchar', length: 200, nullable: true })
  externalId!: string | null;

  @Field({ description: 'Full name.' })
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Mobile number in E.164 form.' })
  @Column({ type: 'varchar', length: 16, nullable: true })
  phone!: string | null;

  @Field(() => String, { nullable: true, description: 'E-mail address, stored lower-case.' })
  @Column({ type: 'varchar', length: 320, nullable: true })
  email!: string | null;

  @Field(() => GraphQLJSONObject, { description: 'Free-form attributes used by rules and templates.' })
  @Column({ type: 'jsonb', default: {} })
  attributes!: Record<string, unknown>;

  @Field(() => [String], { description: 'Labels used for audiences and filters.' })
  @Column({ type: 'text', array: true, default: '{}' })
  tags!: string[];

  @Field(() => [Channel], { description: 'Channels the contact opted out of; nothing is ever sent to them there.' })
  @Column({ type: 'text', array: true, default: '{}' })
  optedOutChannels!: Channel[];

  @Field(() => String, { nullable: true, description: 'Birthday, YYYY-MM-DD (the year may be 0004 when unknown).' })
  @Column({ type: 'date', nullable: true })
  birthday!: string | null;

  @Field(() => String, { nullable: true, description: 'A yearly date that matters (e.g. contract or wedding), YYYY-MM-DD.' })
  @Column({ type: 'date', nullable: true })
  anniversary!: string | null;

  @Field(() => String, { nullable: true, description: "IANA time zone, e.g. Asia/Jakarta; the tenant's when null." })
  @Column({ type: 'varchar', length: 64, nullable: true })
  timezone!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "Preferred language as a BCP 47 tag, e.g. id or en-GB; the tenant's when null.",
  })
  @Column({ type: 'varchar', length: 35, nullable: true })
  locale!: string | null;

  @Field(() => String, { nullable: true, description: 'Service area, e.g. a city or district, for area notices.' })
  @Column({ type: 'varchar', length: 100, nullable: true })
  area!: string | null;

  /** Consent per channel: { whatsapp: { granted, at, source } }; exposed as a list by the resolver. */
  @Column({ type: 'jsonb', default: {} })
  consent!: Partial<Record<Channel, ConsentRecord>>;

  @Field({ description: 'When the contact was created.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Field({ description: 'When the contact was last changed.' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
