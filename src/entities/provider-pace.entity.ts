import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The next free send slot of a rate-limited provider, shared by every worker (SharedRateLimiter). */
@Entity('provider_pace')
export class ProviderPace {
  @PrimaryColumn({ type: 'uuid' })
  providerId!: string;

  @Column({ type: 'timestamptz' })
  nextSlot!: Date;
}
