import { Column, Entity, Index } from 'typeorm';
import { TenantOwned } from './tenant-owned';

/** Where a file is in its life: announced (upload link issued) or uploaded and checked. */
export enum StoredFileStatus {
  PENDING = 'pending',
  READY = 'ready',
}

/** What a file is attached to. */
export enum FileSubject {
  TICKET = 'ticket',
  TICKET_MESSAGE = 'ticket_message',
  COMPLETION_REQUEST = 'completion_request',
}

/**
 * A file the product keeps (on local disk under DATA_DIR, or in an S3-compatible bucket):
 * uploaded by a staff user or a customer, or downloaded from a provider (a customer's
 * WhatsApp photo), then attached to one message or completion request. Owned by FileService.
 */
@Entity('stored_file')
@Index('stored_file_subject_idx', ['subjectId'], { where: '"subjectId" IS NOT NULL' })
@Index('stored_file_unattached_idx', ['expiresAt'], { where: '"subjectId" IS NULL' })
export class StoredFile extends TenantOwned {
  /** The object's key in the store: `<tenantId>/<id>`. */
  @Column({ type: 'varchar', length: 100 })
  storageKey!: string;

  @Column({ type: 'varchar', length: 200 })
  fileName!: string;

  @Column({ type: 'varchar', length: 120 })
  contentType!: string;

  /** Size in bytes: declared at announcement, exact once uploaded. */
  @Column({ type: 'integer' })
  size!: number;

  @Column({ type: 'varchar', length: 64, nullable: true })
  sha256!: string | null;

  @Column({ type: 'varchar', length: 10, default: StoredFileStatus.PENDING })
  status!: StoredFileStatus;

  /** Who uploaded it: a staff user, a contact, or neither (received from a provider). */
  @Column({ type: 'uuid', nullable: true })
  uploadedByUserId!: string | null;

  @Column({ type: 'uuid', nullable: true })
  uploadedByContactId!: string | null;

  @Column({ type: 'varchar', length: 30, nullable: true })
  subjectType!: FileSubject | null;

  @Column({ type: 'uuid', nullable: true })
  subjectId!: string | null;

  @Column({ type: 'timestamptz' })
  createdAt!: Date;

  /** Until when an announced upload may arrive; null once attached. */
  @Column({ type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;
}
