import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ObjectType } from 'type-graphql';
import { Channel } from './channel';
import { TenantOwned } from './tenant-owned';
import { Column, CreateDateColumn, Entity, Index, UpdateDateColumn } from 'typeorm';

@ObjectType({ description: 'A customer of the tenant.' })
@Entity('contact')
@Index('contact_tenant_phone_idx', ['tenantId', 'phone'])
@Index('contact_tenant_email_idx', ['tenantId', 'email'])
export class Contact extends TenantOwned {
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

  @Field({ description: 'When the contact was created.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Field({ description: 'When the contact was last changed.' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
