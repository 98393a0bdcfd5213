import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, UpdateDateColumn } from 'typeorm';
import { TenantOwned } from './tenant-owned';

/** A saved audience: contacts for whom a condition holds (the rules' condition language, compiled to SQL). */
@ObjectType({ description: 'A saved audience filter over contacts.' })
@Entity('segment')
@Index('segment_tenant_name_key', ['tenantId', 'name'], { unique: true })
export class Segment extends TenantOwned {
  @Field({ description: 'Unique name within the tenant.' })
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Field(() => String, { nullable: true, description: 'What it is for.' })
  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Field(() => GraphQLJSONObject, {
    description: 'all/any/not groups of comparisons on contact.* paths, and someRecord groups on the contact’s records.',
  })
  @Column({ type: 'jsonb' })
  filter!: Record<string, unknown>;

  @Field(() => ID, { nullable: true, description: 'Who created it.' })
  @Column({ type: 'uuid', nullable: true })
  createdById!: string | null;

  @Field({ description: 'When it was created.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Field({ description: 'When it was last changed.' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
