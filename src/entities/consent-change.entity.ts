import { Column, Entity, Index } from 'typeorm';
import { TenantOwned } from './tenant-owned';

/** Every opt-out and opt-in, with where it came from. */
@Entity('consent_change')
@Index('consent_change_contact_idx', ['tenantId', 'contactId', 'at'])
export class ConsentChange extends TenantOwned {
  @Column({ type: 'uuid' })
  contactId!: string;

  @Column({ type: 'varchar', length: 20 })
  channel!: string;

  @Column({ type: 'boolean' })
  granted!: boolean;

  /** e.g. keyword:STOP, unsubscribe_link, list_unsubscribe, api, import. */
  @Column({ type: 'varchar', length: 100 })
  source!: string;

  @Column({ type: 'timestamptz' })
  at!: Date;
}
