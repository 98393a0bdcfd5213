import { Field, ID, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@ObjectType({ description: 'An organisation using the service; every other row belongs to exactly one tenant.' })
@Entity('tenant')
export class Tenant {
  @Field(() => ID, { description: 'Unique identifier.' })
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Field({ description: 'Short unique name used at sign-in, e.g. "demo".' })
  @Column({ type: 'varchar', length: 63, unique: true })
  slug!: string;

  @Field({ description: 'Display name.' })
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** Last ticket number handed out; incremented under a row lock so numbers never repeat. */
  @Column({ type: 'integer', default: 0 })
  ticketSequence!: number;

  @Field({ description: 'When the tenant was created.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
