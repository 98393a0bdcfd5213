import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { ChannelProvider } from './channel-provider.entity';
import { TenantOwned } from './tenant-owned';

/** Meta's review state of a message template (its `status`, upper case as Meta writes it). */
export enum MetaTemplateStatus {
  APPROVED = 'APPROVED',
  PENDING = 'PENDING',
  REJECTED = 'REJECTED',
  PAUSED = 'PAUSED',
  DISABLED = 'DISABLED',
  IN_APPEAL = 'IN_APPEAL',
  PENDING_DELETION = 'PENDING_DELETION',
  DELETED = 'DELETED',
  LIMIT_EXCEEDED = 'LIMIT_EXCEEDED',
  ARCHIVED = 'ARCHIVED',
}

registerEnumType(MetaTemplateStatus, {
  name: 'MetaTemplateStatus',
  description: 'Meta’s review state of a template: only APPROVED ones are ever sent.',
  valuesConfig: {
    APPROVED: { description: 'Approved: sent outside the customer’s window.' },
    PENDING: { description: 'Submitted, waiting for Meta’s review: not sent yet.' },
    REJECTED: { description: 'Refused by Meta’s review (see reason): never sent.' },
    PAUSED: { description: 'Paused by Meta for poor quality (customers blocked or reported it): not sent until it resumes.' },
    DISABLED: { description: 'Disabled by Meta after repeated pauses: never sent.' },
    IN_APPEAL: { description: 'A rejection being appealed: not sent.' },
    PENDING_DELETION: { description: 'Being deleted at Meta: not sent.' },
    DELETED: { description: 'Deleted at Meta: not sent.' },
    LIMIT_EXCEEDED: { description: 'The account has more templates than Meta allows: not sent.' },
    ARCHIVED: { description: 'Archived at Meta: not sent.' },
  },
});

/** What Meta lets a template be used for, which also sets its price. */
export enum MetaTemplateCategory {
  UTILITY = 'UTILITY',
  MARKETING = 'MARKETING',
  AUTHENTICATION = 'AUTHENTICATION',
}

registerEnumType(MetaTemplateCategory, {
  name: 'MetaTemplateCategory',
  description: 'What Meta is asked to approve a template for, which also sets its price.',
  valuesConfig: {
    UTILITY: { description: 'About something the customer asked for or has: an order, a visit, an invoice, an account.' },
    MARKETING: { description: 'Offers, news and anything else promotional.' },
    AUTHENTICATION: { description: 'One-time codes.' },
  },
});

@ObjectType({ description: 'A message template of a WhatsApp Business Account, as Meta last reported it.' })
@Entity('meta_template')
@Index('meta_template_provider_name_language_key', ['providerId', 'name', 'language'], { unique: true })
@Index('meta_template_tenant_name_idx', ['tenantId', 'name', 'language'])
export class MetaTemplate extends TenantOwned {
  @Field(() => ID, { description: 'The Meta provider (phone number) whose business account holds it.' })
  @Column({ type: 'uuid' })
  providerId!: string;

  @Field(() => String, { nullable: true, description: 'Meta’s id of the template.' })
  @Column({ type: 'varchar', length: 64, nullable: true })
  metaId!: string | null;

  @Field({ description: 'Template name at Meta (lower case, digits and underscores).' })
  @Column({ type: 'varchar', length: 512 })
  name!: string;

  @Field({ description: 'Language code, e.g. id or en_US.' })
  @Column({ type: 'varchar', length: 20 })
  language!: string;

  @Field(() => String, { description: 'UTILITY, MARKETING or AUTHENTICATION (as Meta reports it).' })
  @Column({ type: 'varchar', length: 30 })
  category!: string;

  @Field(() => MetaTemplateStatus, { description: 'Meta’s review state; only APPROVED templates are sent.' })
  @Column({ type: 'varchar', length: 30 })
  status!: MetaTemplateStatus;

  @Field(() => String, { nullable: true, description: 'Why Meta rejected or paused it, when it said.' })
  @Column({ type: 'varchar', length: 300, nullable: true })
  reason!: string | null;

  @Field(() => GraphQLJSON, { description: 'Its components (header, body, footer, buttons) as Meta returns them.' })
  @Column({ type: 'jsonb', default: () => `'[]'` })
  components!: unknown[];

  @Field({ description: 'When the product last heard of it from Meta (a sync or a status webhook).' })
  @Column({ type: 'timestamptz' })
  syncedAt!: Date;

  @ManyToOne(() => ChannelProvider, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'providerId' })
  provider?: ChannelProvider;
}
