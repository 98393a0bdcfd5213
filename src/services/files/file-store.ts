import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NotFound,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** Where files are kept: a directory on local disk, or an S3-compatible bucket. */
export interface FileStore {
  readonly kind: 'local' | 's3';
  /**
   * A presigned URL the client PUTs the bytes to directly (S3: the declared type and length
   * are signed, so the store refuses others), or null when uploads go through the API.
   */
  presignedUpload(key: string, contentType: string, size: number, expiresInSeconds: number): Promise<string | null>;
  /** Writes the whole stream under the key (replacing nothing until it is complete). */
  write(key: string, body: Readable | Buffer, contentType: string, size?: number): Promise<void>;
  read(key: string): Promise<Readable>;
  /** The first bytes of the object (for the type check), or null when there is none. */
  head(key: string, bytes: number): Promise<{ size: number; start: Buffer } | null>;
  remove(key: string): Promise<void>;
}

/** A key is `<tenant uuid>/<file uuid>`: nothing that could climb out of the directory or bucket prefix. */
const KEY = /^[0-9a-f-]{36}\/[0-9a-f-]{36}$/;
function checked(key: string): string {
  if (!KEY.test(key)) throw new Error(`Not a file key: ${key}`);
  return key;
}

/** Files under a local directory (DATA_DIR/files by default), written to a temporary name and renamed. */
export class LocalFileStore implements FileStore {
  readonly kind = 'local';
  constructor(private readonly root: string) {}

  private where(key: string): string {
    return path.join(this.root, checked(key));
  }

  async presignedUpload(): Promise<string | null> {
    return null;
  }

  async write(key: string, body: Readable | Buffer): Promise<void> {
    const file = this.where(key);
    await mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.${Date.now()}.part`;
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(partial, { mode: 0o600 }));
      await rename(partial, file);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async read(key: string): Promise<Readable> {
    const file = this.where(key);
    await stat(file);
    return createReadStream(file);
  }

  async head(key: string, bytes: number): Promise<{ size: number; start: Buffer } | null> {
    const handle = await open(this.where(key), 'r').catch(() => null);
    if (!handle) return null;
    try {
      const { size } = await handle.stat();
      const start = Buffer.alloc(Math.min(bytes, size));
      await handle.read(start, 0, start.length, 0);
      return { size, start };
    } finally {
      await handle.close();
    }
  }

  async remove(key: string): Promise<void> {
    await rm(this.where(key), { force: true });
  }
}

export interface S3Settings {
  endpoint: string | undefined;
  bucket: string;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
}

/** Files in an S3-compatible bucket (AWS S3, MinIO, R2...), uploaded by clients through presigned PUT URLs. */
export class S3FileStore implements FileStore {
  readonly kind = 's3';
  private readonly client: S3Client;

  constructor(private readonly settings: S3Settings) {
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      credentials:
        settings.accessKeyId && settings.secretAccessKey
          ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
          : undefined,
      // Checksums on every request are for SDK-to-AWS traffic; a presigned PUT from a browser cannot add them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  presignedUpload(key: string, contentType: string, size: number, expiresInSeconds: number): Promise<string | null> {
    const command = new PutObjectCommand({
      Bucket: this.settings.bucket,
      Key: checked(key),
      ContentType: contentType,
      ContentLength: size,
    });
    return getSignedUrl(this.client, command, {
      expiresIn: expiresInSeconds,
      signableHeaders: new Set(['content-type', 'content-length']),
    });
  }

  async write(key: string, body: Readable | Buffer, contentType: string, size?: number): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.settings.bucket,
        Key: checked(key),
        Body: body,
        ContentType: contentType,
        ContentLength: size,
      }),
    );
  }

  async read(key: string): Promise<Readable> {
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: checked(key) }));
    return object.Body as Readable;
  }

  async head(key: string, bytes: number): Promise<{ size: number; start: Buffer } | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: checked(key) }));
      const size = Number(head.ContentLength ?? 0);
      if (size === 0) return { size, start: Buffer.alloc(0) };
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: key, Range: `bytes=0-${Math.min(bytes, size) - 1}` }),
      );
      return { size, start: Buffer.from(await object.Body!.transformToByteArray()) };
    } catch (error) {
      if (error instanceof NotFound || error instanceof NoSuchKey) return null;
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: checked(key) }));
  }
}
