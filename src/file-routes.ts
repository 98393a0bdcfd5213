import { type Request, type Response, Router } from 'express';
import type { Logger } from './logger';
import type { Services } from './services';
import { type UploadRefusal, UploadRefused } from './services/files/file.service';

const STATUS: Record<UploadRefusal, number> = {
  not_found: 404,
  too_large: 413,
  incomplete: 400,
  type_mismatch: 415,
  already_uploaded: 409,
};

/**
 * Files over HTTP: `PUT /files/upload/<signed token>` takes the bytes of an announced file
 * (local storage; with S3 the client PUTs to the bucket's presigned URL instead), and
 * `GET /files/<id>?w=&e=&s=` serves a file through a link signed for one reader. A bad,
 * expired or someone else's link answers 404, exactly like a file that does not exist.
 */
export function createFileRouter(services: Services, logger: Logger): Router {
  const router = Router();
  router.put('/upload/:token', async (req: Request, res: Response) => {
    const declared = Number(req.header('content-length'));
    if (Number.isFinite(declared) && declared > services.files.maxBytes) {
      return void res.status(413).json({ error: { code: 'too_large', message: 'The file is larger than allowed' } });
    }
    try {
      const file = await services.files.receive(String(req.params.token), req);
      res.status(201).json({ fileId: file.id, size: file.size, contentType: file.contentType, sha256: file.sha256 });
    } catch (error) {
      if (error instanceof UploadRefused) {
        // The rest of a refused body is not read: close the connection after answering.
        res.setHeader('Connection', 'close');
        return void res.status(STATUS[error.reason]).json({ error: { code: error.reason, message: error.message } });
      }
      logger.error('file upload failed', { error });
      res.status(500).json({ error: { code: 'internal', message: 'The upload failed; please try again' } });
    }
  });
  router.get('/:id', async (req: Request, res: Response) => {
    try {
      const opened = await services.files.open(String(req.params.id), req.query as Record<string, unknown>);
      if (!opened)
        return void res.status(404).json({ error: { code: 'not_found', message: 'This link is not valid or has expired' } });
      const { file, body } = opened;
      res.setHeader('Content-Type', file.contentType);
      res.setHeader('Content-Length', String(file.size));
      res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.fileName)}`);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
      res.setHeader('Cache-Control', 'private, no-store');
      res.setHeader('Referrer-Policy', 'no-referrer');
      body.on('error', (error) => {
        logger.error('file download failed', { error, fileId: file.id });
        res.destroy();
      });
      body.pipe(res);
    } catch (error) {
      logger.error('file download failed', { error });
      res.status(500).json({ error: { code: 'internal', message: 'The download failed; please try again' } });
    }
  });
  return router;
}
