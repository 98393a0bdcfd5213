import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { type Readable, Transform, pipeline } from 'node:stream';
import type { DataSource, EntityManager } from 'typeorm';
import { FileSubject, StoredFile, StoredFileStatus } from '../../entities/stored-file.entity';
import type { Attachment } from '../../entities/ticket-message.entity';
import type { Principal } from '../directory/principal';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, badInput } from '../platform/errors';
import { isUuid } from '../platform/ids';
import type { FileStore } from './file-store';
import { ACCEPTED_TYPES, SNIFF_BYTES, acceptedType, bytesMatchType, keepRefusal, normalType, safeFileName } from './file-types';

export interface FileServiceSettings {
  store: FileStore;
  /** Signs upload and download links. */
  linkSecret: string;
  /** Where clients reach the API (links are absolute). */
  publicUrl: string;
  maxBytes: number;
  linkTtlSeconds: number;
  /** How long an announced upload may take to arrive. */
  uploadTtlSeconds?: number;
}

export interface UploadTicket {
  file: StoredFile;
  /** Where to PUT the bytes, with the headers below. */
  uploadUrl: string;
  headers: Record<string, string>;
  expiresAt: Date;
}

/** Why an upload was refused, as the upload endpoint answers it. */
export type UploadRefusal = 'not_found' | 'too_large' | 'incomplete' | 'type_mismatch' | 'already_uploaded';

export class UploadRefused extends Error {
  constructor(
    readonly reason: UploadRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** A file that came with an inbound message, as the provider served it. */
export interface ReceivedFile {
  bytes: Buffer;
  fileName: string;
  contentType: string;
}

/** At most this many files per message or completion request. */
export const MAX_FILES_PER_SUBJECT = 10;

const hmac = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest('base64url');
const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Files: announced by a signed-in caller (type and size checked), uploaded to a short-lived
 * signed URL (the API's own, or a presigned S3 PUT), checked (size, first bytes against the
 * declared type), attached once to a message or completion request of the caller's, and
 * downloaded through short-lived links signed for one caller and re-checked on use. Owner of
 * `stored_file`.
 */
export class FileService {
  private readonly uploadTtlSeconds: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly settings: FileServiceSettings,
  ) {
    this.uploadTtlSeconds = settings.uploadTtlSeconds ?? 3600;
  }

  get maxBytes(): number {
    return this.settings.maxBytes;
  }

  /** Announces a file the caller will upload: its name, type and size, checked against the limits. */
  async announce(actor: Principal, input: { fileName: string; contentType: string; size: number }): Promise<UploadTicket> {
    const contentType = normalType(input.contentType);
    if (!acceptedType(contentType))
      throw badInput(
        `Files of type ${contentType} are not accepted; accepted: ${ACCEPTED_TYPES.join(', ')}`,
        'contentType',
        'TYPE',
      );
    if (!Number.isInteger(input.size) || input.size < 1 || input.size > this.settings.maxBytes)
      throw badInput(`A file is 1 to ${this.settings.maxBytes} bytes`, 'size', 'TOO_LARGE');
    const expiresAt = new Date(this.clock.now().getTime() + this.uploadTtlSeconds * 1000);
    const file = await this.dataSource.getRepository(StoredFile).save(
      this.newFile(actor.tenantId, input.fileName, contentType, input.size, {
        uploadedByUserId: actor.kind === 'staff' ? actor.userId : null,
        uploadedByContactId: actor.kind === 'customer' ? actor.contactId : null,
        expiresAt,
      }),
    );
    const id = file.id;
    const presigned = await this.settings.store.presignedUpload(file.storageKey, contentType, file.size, this.uploadTtlSeconds);
    const expiry = Math.floor(expiresAt.getTime() / 1000);
    return {
      file,
      uploadUrl:
        presigned ??
        `${this.settings.publicUrl}/files/upload/${id}.${expiry}.${hmac(this.settings.linkSecret, `up.${id}.${expiry}`)}`,
      headers: { 'Content-Type': contentType, 'Content-Length': String(file.size) },
      expiresAt,
    };
  }

  /**
   * The bytes of an announced file, PUT to its signed upload URL: refused past the declared
   * size (as they arrive), short of it, or when the first bytes are not the declared type;
   * the file is then ready to attach.
   */
  async receive(token: string, body: Readable): Promise<StoredFile> {
    const [id, expiry, signature] = token.split('.');
    if (
      !isUuid(id) ||
      !/^\d+$/.test(expiry ?? '') ||
      !same(signature ?? '', hmac(this.settings.linkSecret, `up.${id}.${expiry}`)) ||
      Number(expiry) * 1000 < this.clock.now().getTime()
    )
      throw new UploadRefused('not_found', 'This upload link is not valid or has expired');
    const file = await this.dataSource.getRepository(StoredFile).findOneBy({ id });
    if (!file) throw new UploadRefused('not_found', 'This upload link is not valid or has expired');
    if (file.status !== StoredFileStatus.PENDING) throw new UploadRefused('already_uploaded', 'This file was already uploaded');
    let received = 0;
    let head = Buffer.alloc(0);
    const hash = createHash('sha256');
    const limit = file.size;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        if (received > limit) return done(new UploadRefused('too_large', `The file is larger than the ${limit} bytes announced`));
        if (head.length < SNIFF_BYTES) head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      // pipeline (not pipe) so an early refusal ends the request's stream too, with every error handled.
      await this.settings.store.write(
        file.storageKey,
        pipeline(body, meter, () => undefined),
        file.contentType,
      );
    } catch (error) {
      await this.settings.store.remove(file.storageKey);
      throw error;
    }
    const refusal =
      received !== limit
        ? new UploadRefused('incomplete', `Received ${received} of the ${limit} bytes announced`)
        : !bytesMatchType(file.contentType, head)
          ? new UploadRefused('type_mismatch', `The file is not ${file.contentType}`)
          : null;
    if (refusal) {
      await this.settings.store.remove(file.storageKey);
      throw refusal;
    }
    return this.markReady(this.dataSource.manager, file, hash.digest('hex'));
  }

  /**
   * Keeps a file received from a provider (a customer's WhatsApp photo), checked like an
   * upload, attached to its subject at once. Null when it breaks the limits.
   */
  async keep(
    manager: EntityManager,
    tenantId: string,
    input: { bytes: Buffer; fileName: string; contentType: string; contactId: string | null },
    subject: { type: FileSubject; id: string },
  ): Promise<Attachment | null> {
    if (keepRefusal(input.contentType, input.bytes, this.settings.maxBytes)) return null;
    const file = this.newFile(tenantId, input.fileName, normalType(input.contentType), input.bytes.length, {
      sha256: createHash('sha256').update(input.bytes).digest('hex'),
      status: StoredFileStatus.READY,
      uploadedByContactId: input.contactId,
      subjectType: subject.type,
      subjectId: subject.id,
    });
    await this.settings.store.write(file.storageKey, input.bytes, file.contentType, file.size);
    return attachmentOf(await manager.getRepository(StoredFile).save(file));
  }

  /**
   * Attaches the caller's uploaded files to a subject, in the caller's transaction: each id
   * must be a file this caller uploaded in this tenant (else NOT_FOUND, like any unknown id),
   * uploaded and checked, and not attached yet. Answers the attachments in the order given.
   */
  async attach(
    manager: EntityManager,
    actor: Principal,
    fileIds: readonly string[],
    subject: { type: FileSubject; id: string },
    field = 'fileIds',
  ): Promise<Attachment[]> {
    if (!fileIds.length) return [];
    if (fileIds.length > MAX_FILES_PER_SUBJECT) throw badInput(`At most ${MAX_FILES_PER_SUBJECT} files`, field, 'TOO_MANY');
    if (new Set(fileIds).size !== fileIds.length) throw badInput('A file is attached once', field, 'DUPLICATE');
    const malformed = fileIds.findIndex((id) => !isUuid(id));
    if (malformed >= 0) throw badInput('Not a file id', `${field}[${malformed}]`);
    const rows = await manager
      .getRepository(StoredFile)
      .createQueryBuilder('f')
      .setLock('pessimistic_write')
      .where('f."tenantId" = :tenantId AND f.id IN (:...ids)', { tenantId: actor.tenantId, ids: [...fileIds] })
      .getMany();
    const files = fileIds.map((id, index) => {
      const file = rows.find((row) => row.id === id);
      const mine =
        file && (actor.kind === 'staff' ? file.uploadedByUserId === actor.userId : file.uploadedByContactId === actor.contactId);
      if (!file || !mine)
        throw new DomainError(ErrorCode.NotFound, `File ${id} was not found`, { id, field: `${field}[${index}]` });
      if (file.subjectId) throw badInput('This file is already attached elsewhere', `${field}[${index}]`, 'ATTACHED');
      return { file, index };
    });
    for (const { file, index } of files) {
      if (file.status === StoredFileStatus.READY) continue;
      // Uploaded straight to the bucket: checked now, as the API's own endpoint checks it.
      const stored = await this.settings.store.head(file.storageKey, SNIFF_BYTES);
      if (!stored) throw badInput('This file has not been uploaded yet', `${field}[${index}]`, 'NOT_UPLOADED');
      if (stored.size !== file.size || !bytesMatchType(file.contentType, stored.start)) {
        await this.settings.store.remove(file.storageKey);
        throw badInput(
          `The uploaded file is not the ${file.size}-byte ${file.contentType} announced`,
          `${field}[${index}]`,
          'MISMATCH',
        );
      }
      await this.markReady(manager, file, null);
    }
    await manager
      .getRepository(StoredFile)
      .createQueryBuilder()
      .update()
      .set({ subjectType: subject.type, subjectId: subject.id, expiresAt: null })
      .where('"tenantId" = :tenantId AND id IN (:...ids)', { tenantId: actor.tenantId, ids: [...fileIds] })
      .execute();
    return files.map(({ file }) => attachmentOf(file));
  }

  /** The files attached to each subject, oldest first. */
  async filesOf(tenantId: string, subjectIds: readonly string[]): Promise<Map<string, Attachment[]>> {
    const byId = new Map<string, Attachment[]>(subjectIds.map((id) => [id, []]));
    if (!subjectIds.length) return byId;
    const rows = await this.dataSource
      .getRepository(StoredFile)
      .createQueryBuilder('f')
      .where('f."tenantId" = :tenantId AND f."subjectId" IN (:...ids)', { tenantId, ids: [...subjectIds] })
      .orderBy('f."createdAt"')
      .addOrderBy('f.id')
      .getMany();
    for (const row of rows) byId.get(row.subjectId!)?.push(attachmentOf(row));
    return byId;
  }

  /** A file of the caller's tenant, uploaded and checked, as an attachment to send (NOT_FOUND otherwise). */
  async describe(actor: Principal, fileId: string, field = 'fileId'): Promise<Attachment> {
    if (!isUuid(fileId)) throw badInput('Not a file id', field);
    const file = await this.dataSource
      .getRepository(StoredFile)
      .findOneBy({ id: fileId, tenantId: actor.tenantId, status: StoredFileStatus.READY });
    if (!file) throw new DomainError(ErrorCode.NotFound, `File ${fileId} was not found`, { id: fileId, field });
    return attachmentOf(file);
  }

  /**
   * A link for a provider to fetch the file a delivery carries (Meta downloads media by
   * link; other channels send the link): it opens only that file, only while the delivery
   * carries it, for `ttlSeconds`.
   */
  providerLink(deliveryId: string, fileId: string, ttlSeconds: number): string {
    return this.signedLink(fileId, `d${deliveryId}`, ttlSeconds);
  }

  /** A download link of a file for this caller, working for FILE_LINK_TTL_SECONDS (the caller may see its subject). */
  link(actor: Principal, fileId: string): string {
    return this.signedLink(
      fileId,
      actor.kind === 'staff' ? `u${actor.userId}` : `c${actor.contactId}`,
      this.settings.linkTtlSeconds,
    );
  }

  private signedLink(fileId: string, who: string, ttlSeconds: number): string {
    const expiry = Math.floor(this.clock.now().getTime() / 1000) + ttlSeconds;
    const signature = hmac(this.settings.linkSecret, `down.${fileId}.${who}.${expiry}`);
    return `${this.settings.publicUrl}/files/${fileId}?w=${who}&e=${expiry}&s=${signature}`;
  }

  /**
   * The file a download link names, once its signature, expiry and holder are checked: the
   * holder must still be a staff user of the file's tenant, or the customer whose message,
   * ticket or completion request it belongs to (never a staff-only note's). Null otherwise.
   */
  async open(
    fileId: string,
    query: { w?: unknown; e?: unknown; s?: unknown },
  ): Promise<{ file: StoredFile; body: Readable } | null> {
    const [who, expiry, signature] = [query.w, query.e, query.s].map((value) => (typeof value === 'string' ? value : ''));
    if (!isUuid(fileId) || !/^[ucd][0-9a-f-]{36}$/.test(who) || !/^\d+$/.test(expiry)) return null;
    if (!same(signature, hmac(this.settings.linkSecret, `down.${fileId}.${who}.${expiry}`))) return null;
    if (Number(expiry) * 1000 < this.clock.now().getTime()) return null;
    const file = await this.dataSource.getRepository(StoredFile).findOneBy({ id: fileId, status: StoredFileStatus.READY });
    const reader = ({ u: 'staff', c: 'customer', d: 'delivery' } as const)[who[0] as 'u' | 'c' | 'd'];
    if (!file || !(await this.mayRead(file, reader, who.slice(1)))) return null;
    return { file, body: await this.settings.store.read(file.storageKey) };
  }

  /**
   * Removes announced uploads that were never attached before their link expired (the object,
   * if the client uploaded one, then the row), a batch at a time; how many.
   */
  async sweepAbandoned(tenantId: string | null = null, limit = 500): Promise<number> {
    const rows: Array<{ id: string; storageKey: string }> = await this.dataSource.query(
      `SELECT id, "storageKey" FROM stored_file
        WHERE "subjectId" IS NULL AND "expiresAt" < $1 AND ($3::uuid IS NULL OR "tenantId" = $3) ORDER BY "expiresAt" LIMIT $2`,
      [this.clock.now(), limit, tenantId],
    );
    for (const row of rows) await this.settings.store.remove(row.storageKey);
    if (rows.length)
      await this.dataSource.query(`DELETE FROM stored_file WHERE id = ANY($1::uuid[])`, [rows.map((row) => row.id)]);
    return rows.length;
  }

  private async mayRead(file: StoredFile, kind: 'staff' | 'customer' | 'delivery', id: string): Promise<boolean> {
    if (kind === 'delivery') {
      const rows = await this.dataSource.query(
        `SELECT 1 FROM delivery WHERE id = $1 AND "tenantId" = $2 AND attachment ->> 'fileId' = $3`,
        [id, file.tenantId, file.id],
      );
      return rows.length > 0;
    }
    if (kind === 'staff') {
      const rows = await this.dataSource.query(`SELECT 1 FROM "user" WHERE id = $1 AND "tenantId" = $2 AND active`, [
        id,
        file.tenantId,
      ]);
      return rows.length > 0;
    }
    if (!file.subjectId) return file.uploadedByContactId === id;
    const rows = await this.dataSource.query(
      {
        [FileSubject.TICKET]: `SELECT 1 FROM ticket t WHERE t.id = $1 AND t."tenantId" = $3 AND t."requesterId" = $2`,
        [FileSubject.TICKET_MESSAGE]: `SELECT 1 FROM ticket_message m JOIN ticket t ON t.id = m."ticketId"
            WHERE m.id = $1 AND m."tenantId" = $3 AND NOT m.internal AND t."requesterId" = $2`,
        [FileSubject.COMPLETION_REQUEST]: `SELECT 1 FROM completion_request c WHERE c.id = $1 AND c."tenantId" = $3 AND c."contactId" = $2`,
      }[file.subjectType ?? FileSubject.TICKET_MESSAGE],
      [file.subjectId, id, file.tenantId],
    );
    return rows.length > 0;
  }

  /** A new file row of the tenant (pending and unattached unless told otherwise), keyed `<tenant>/<id>` in the store. */
  private newFile(
    tenantId: string,
    fileName: string,
    contentType: string,
    size: number,
    fields: Partial<StoredFile>,
  ): StoredFile {
    const id = randomUUID();
    return Object.assign(new StoredFile(), {
      id,
      tenantId,
      storageKey: `${tenantId}/${id}`,
      fileName: safeFileName(fileName),
      contentType,
      size,
      sha256: null,
      status: StoredFileStatus.PENDING,
      uploadedByUserId: null,
      uploadedByContactId: null,
      subjectType: null,
      subjectId: null,
      createdAt: this.clock.now(),
      expiresAt: null,
      ...fields,
    });
  }

  private async markReady(manager: EntityManager, file: StoredFile, sha256: string | null): Promise<StoredFile> {
    await manager.getRepository(StoredFile).update({ id: file.id }, { status: StoredFileStatus.READY, sha256 });
    return Object.assign(file, { status: StoredFileStatus.READY, sha256 });
  }
}

/** The attachment a message keeps of a stored file; its link is made for each reader. */
function attachmentOf(file: StoredFile): Attachment {
  return { fileId: file.id, url: '', filename: file.fileName, contentType: file.contentType, size: file.size };
}
