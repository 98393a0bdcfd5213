import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Tenant } from './tenant.entity';

/**
 * A request made with an idempotency key (the `Idempotency-Key` header, or a mutation's
 * key): what it asked (a fingerprint of its body) and what it was answered, so the same
 * key with the same body is answered the same, and with another body is refused.
 */
@Entity('idempotent_request')
@Index('idempotent_request_key', ['tenantId', 'scope', 'key'], { unique: true })
@Index('idempotent_request_created_idx', ['createdAt'])
export class IdempotentRequest {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenantId' })
  tenant?: Tenant;

  /** What was called, e.g. `POST /v1/events` or `publishEvents`: one key may serve several endpoints. */
  @Column({ type: 'varchar', length: 100 })
  scope!: string;

  @Column({ type: 'varchar', length: 200 })
  key!: string;

  /** SHA-256 of the request body in canonical JSON. */
  @Column({ type: 'varchar', length: 64 })
  fingerprint!: string;

  /** The first answer, given again to a retry. */
  @Column({ type: 'jsonb' })
  response!: unknown;

  @Column({ type: 'timestamptz' })
  createdAt!: Date;
}
