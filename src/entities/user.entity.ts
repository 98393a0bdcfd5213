import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { TenantOwned } from './tenant-owned';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';

/** Roles of the people acting on the API; `customer` is a contact acting through a customer token. */
export enum Role {
  ADMIN = 'admin',
  MANAGER = 'manager',
  SUPERVISOR = 'supervisor',
  AGENT = 'agent',
  TECHNICIAN = 'technician',
  CUSTOMER = 'customer',
}

registerEnumType(Role, {
  name: 'Role',
  description: 'What a person may do.',
  valuesConfig: {
    ADMIN: { description: 'Configures the tenant, its people and its channels.' },
    MANAGER: { description: 'Leads a team; receives escalations for the people reporting to them.' },
    SUPERVISOR: { description: 'Oversees queues and SLA compliance.' },
    AGENT: { description: 'Works support tickets.' },
    TECHNICIAN: { description: 'Does field work and asks customers to confirm it.' },
    CUSTOMER: { description: 'A contact acting through a customer token.' },
  },
});

/** Roles a staff user can hold (everything but customer). */
export const STAFF_ROLES = [Role.ADMIN, Role.MANAGER, Role.SUPERVISOR, Role.AGENT, Role.TECHNICIAN] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export enum Availability {
  AVAILABLE = 'available',
  AWAY = 'away',
  OFFLINE = 'offline',
}

registerEnumType(Availability, {
  name: 'Availability',
  description: 'Whether a staff user takes new work.',
  valuesConfig: {
    AVAILABLE: { description: 'Takes new tickets through auto-assignment.' },
    AWAY: { description: 'Signed in but not taking new tickets.' },
    OFFLINE: { description: 'Not working.' },
  },
});

@ObjectType({ description: 'A staff member of the tenant.' })
@Entity('user')
@Index('user_tenant_email_key', ['tenantId', 'email'], { unique: true })
@Index('user_tenant_external_id_key', ['tenantId', 'externalId'], { unique: true, where: '"externalId" IS NOT NULL' })
export class User extends TenantOwned {
  @Field(() => String, { nullable: true, description: "The user's id in the tenant's HR system (employee number); unique." })
  @Column({ type: 'varchar', length: 200, nullable: true })
  externalId!: string | null;

  @Field({ description: 'Full name.' })
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Field({ description: 'E-mail address, stored lower-case; unique within the tenant.' })
  @Column({ type: 'varchar', length: 320 })
  email!: string;

  /** argon2id hash; never leaves the server. */
  @Column({ type: 'varchar', length: 255 })
  passwordHash!: string;

  @Field(() => Role, { description: 'What the user may do.' })
  @Column({ type: 'enum', enum: Role, enumName: 'role' })
  role!: StaffRole;

  @Field(() => String, { nullable: true, description: 'Mobile number in E.164 form, e.g. +6281234567890.' })
  @Column({ type: 'varchar', length: 16, nullable: true })
  phone!: string | null;

  @Field(() => ID, { nullable: true, description: 'Id of the user this one reports to.' })
  @Column({ type: 'uuid', nullable: true })
  managerId!: string | null;

  @ManyToOne(() => User, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'managerId' })
  manager?: User | null;

  @Field(() => String, { nullable: true, description: "IANA time zone, e.g. Asia/Makassar; the tenant's when null." })
  @Column({ type: 'varchar', length: 64, nullable: true })
  timezone!: string | null;

  @Field(() => GraphQLJSONObject, {
    description: 'What the HR system knows: store, cluster, position, ...; used by rules and reports.',
  })
  @Column({ type: 'jsonb', default: {} })
  attributes!: Record<string, unknown>;

  @Field(() => Availability, { description: 'Whether the user takes new tickets.' })
  @Column({ type: 'enum', enum: Availability, enumName: 'availability', default: Availability.AVAILABLE })
  availability!: Availability;

  @Field(() => Int, { description: 'Most open tickets auto-assignment gives this user.' })
  @Column({ type: 'integer', default: 10 })
  maxOpenTickets!: number;

  @Field(() => Date, { nullable: true, description: 'When a ticket was last assigned to the user.' })
  @Column({ type: 'timestamptz', nullable: true })
  lastAssignedAt!: Date | null;

  /**
   * A platform super-admin may read deliveries and statistics of every tenant. Only the
   * `create-admin --platform-admin` command sets it: no API operation of any tenant can.
   */
  @Column({ type: 'boolean', default: false })
  platformAdmin!: boolean;

  @Field({ description: 'False for users who may no longer sign in.' })
  @Column({ type: 'boolean', default: true })
  active!: boolean;

  @Field({ description: 'When the user was created.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Field({ description: 'When the user was last changed.' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
