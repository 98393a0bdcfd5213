import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

interface StoredObject {
  body: Buffer;
  contentType: string;
}

/** What the fake was asked, for assertions on how the store was addressed and signed. */
export interface S3Request {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

/**
 * An S3-compatible bucket over HTTP, path-style (`/<bucket>/<key>`), as MinIO serves one:
 * PutObject (SDK-signed or through a presigned URL), GetObject with Range, HeadObject and
 * DeleteObject, with S3's XML errors (AccessDenied for an unsigned request, NoSuchKey,
 * NoSuchBucket). Signatures are required to be present, not verified.
 */
export class S3Fake {
  readonly objects = new Map<string, StoredObject>();
  readonly requests: S3Request[] = [];
  private server: Server | undefined;
  url = '';

  constructor(readonly bucket: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://s3.local');
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      authorization: req.headers.authorization,
    });
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const signed = Boolean(req.headers.authorization?.startsWith('AWS4-HMAC-SHA256 ')) || url.searchParams.has('X-Amz-Signature');
    if (!signed) return this.error(res, 403, 'AccessDenied', 'Access Denied');
    if (bucket !== this.bucket) return this.error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const object = this.objects.get(key);
    switch (req.method) {
      case 'PUT': {
        const body = Buffer.concat(chunks);
        this.objects.set(key, { body, contentType: String(req.headers['content-type'] ?? 'application/octet-stream') });
        res.writeHead(200, { ETag: `"${body.length}"` });
        return void res.end();
      }
      case 'HEAD':
        if (!object) {
          res.writeHead(404);
          return void res.end();
        }
        res.writeHead(200, { 'Content-Length': object.body.length, 'Content-Type': object.contentType });
        return void res.end();
      case 'GET': {
        if (!object) return this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
        const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
        if (range) {
          const part = object.body.subarray(Number(range[1]), Number(range[2]) + 1);
          res.writeHead(206, {
            'Content-Type': object.contentType,
            'Content-Length': part.length,
            'Content-Range': `bytes ${range[1]}-${Number(range[1]) + part.length - 1}/${object.body.length}`,
          });
          return void res.end(part);
        }
        res.writeHead(200, { 'Content-Type': object.contentType, 'Content-Length': object.body.length });
        return void res.end(object.body);
      }
      case 'DELETE':
        this.objects.delete(key);
        res.writeHead(204);
        return void res.end();
      default:
        return this.error(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'Content-Type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
  }
}
