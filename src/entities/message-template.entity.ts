import { Field, Int, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, UpdateDateColumn } from 'typeorm';
import { Channel } from './channel';
import { TenantOwned } from './tenant-owned';

@ObjectType({ description: 'A reusable message with {{variable}} placeholders.' })
@Entity('message_template')
@Index('message_template_tenant_channel_name_key', ['tenantId', 'channel', 'name'], { unique: true })
export class MessageTemplate extends TenantOwned {
  @Field(() => Channel, { description: 'Channel the template is written for.' })
  @Column({ type: 'enum', enum: Channel, enumName: 'channel' })
  channel!: Channel;

  @Field({ description: 'Unique name within the tenant and channel, e.g. "escalation-level-1".' })
  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Subject line (e-mail).' })
  @Column({ type: 'varchar', length: 300, nullable: true })
  subject!: string | null;

  @Field({ description: 'Body with {{variable}} placeholders.' })
  @Column({ type: 'text' })
  body!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Approved Meta template name; WhatsApp through Meta then sends a template message.',
  })
  @Column({ type: 'varchar', length: 200, nullable: true })
  metaTemplateName!: string | null;

  @Field(() => String, { nullable: true, description: 'Language code of the Meta template, e.g. en_US.' })
  @Column({ type: 'varchar', length: 20, nullable: true })
  metaLanguage!: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'How long a message from it is worth sending, in minutes (past it: EXPIRED); the notification type’s default when null.',
  })
  @Column({ type: 'integer', nullable: true })
  validForMinutes!: number | null;

  @Field({ description: 'When the template was created.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Field({ description: 'When the template was last changed.' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
