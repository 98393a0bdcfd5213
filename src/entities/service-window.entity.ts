import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ChannelProvider } from './channel-provider.entity';

/**
 * Meta's customer-service window of one customer's WhatsApp number on one of the tenant's
 * WhatsApp Business numbers (a Meta provider): open for 24 hours after the customer's last
 * message to it. Owned by ServiceWindowService.
 */
@Entity('service_window')
@Index('service_window_tenant_phone_idx', ['tenantId', 'phone'])
export class ServiceWindow {
  @PrimaryColumn({ type: 'uuid' })
  providerId!: string;

  /** The customer's number in E.164 form. */
  @PrimaryColumn({ type: 'varchar', length: 32 })
  phone!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'timestamptz' })
  lastInboundAt!: Date;

  @ManyToOne(() => ChannelProvider, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'providerId' })
  provider?: ChannelProvider;
}
