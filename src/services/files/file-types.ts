/**
 * The files the product keeps, by declared MIME type, each with a check of its first bytes
 * (the declared type must be what the bytes are: a renamed program is not a photo).
 */
const starts =
  (...signatures: Array<number[] | string>) =>
  (head: Buffer): boolean =>
    signatures.some((signature) => {
      const bytes = typeof signature === 'string' ? Buffer.from(signature, 'latin1') : Buffer.from(signature);
      return head.length >= bytes.length && head.subarray(0, bytes.length).equals(bytes);
    });

const at = (offset: number, text: string) => (head: Buffer) =>
  head.length >= offset + text.length && head.subarray(offset, offset + text.length).toString('latin1') === text;

const ZIP = starts([0x50, 0x4b, 0x03, 0x04]);
const OLE = starts([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const MP4 = at(4, 'ftyp');

const FILE_TYPES: Record<string, (head: Buffer) => boolean> = {
  'image/jpeg': starts([0xff, 0xd8, 0xff]),
  'image/png': starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  'image/gif': starts('GIF87a', 'GIF89a'),
  'image/webp': (head) => starts('RIFF')(head) && at(8, 'WEBP')(head),
  'application/pdf': starts('%PDF-'),
  'audio/ogg': starts('OggS'),
  'audio/mpeg': (head) => starts('ID3')(head) || (head.length >= 2 && head[0] === 0xff && (head[1] & 0xe0) === 0xe0),
  'audio/amr': starts('#!AMR'),
  'audio/aac': (head) => head.length >= 2 && head[0] === 0xff && (head[1] & 0xf6) === 0xf0,
  'audio/mp4': MP4,
  'video/mp4': MP4,
  'video/3gpp': MP4,
  'text/plain': (head) => !head.includes(0),
  'text/csv': (head) => !head.includes(0),
  'application/msword': OLE,
  'application/vnd.ms-excel': OLE,
  'application/vnd.ms-powerpoint': OLE,
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': ZIP,
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': ZIP,
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': ZIP,
};

/** How many leading bytes the checks read. */
export const SNIFF_BYTES = 512;

/** The MIME types accepted for upload, in a stable order (README and errors list them). */
export const ACCEPTED_TYPES = Object.keys(FILE_TYPES).sort();

/** A declared type, lower case and without parameters (`Image/PNG; x=1` is `image/png`). */
export function normalType(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}

export function acceptedType(contentType: string): boolean {
  return normalType(contentType) in FILE_TYPES;
}

/** Whether the file's first bytes are what its declared type says. */
export function bytesMatchType(contentType: string, head: Buffer): boolean {
  const check = FILE_TYPES[normalType(contentType)];
  return check !== undefined && head.length > 0 && check(head);
}

/** A file name safe to keep and to send back in Content-Disposition: no path, no control characters, at most 200 characters. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f"]/g, '').trim();
  return (cleaned || 'file').slice(0, 200);
}

/** Why files of this declared type are not kept, or null (checked before anything is downloaded). */
export function typeRefusal(contentType: string): string | null {
  return acceptedType(contentType) ? null : `files of type ${normalType(contentType)} are not kept`;
}

/**
 * Why a file received from a provider cannot be kept (in words for the thread), or null:
 * a type not accepted, more than maxBytes, or bytes that are not the declared type.
 */
export function keepRefusal(contentType: string, bytes: Buffer, maxBytes: number): string | null {
  const type = normalType(contentType);
  const refused = typeRefusal(type);
  if (refused) return refused;
  if (bytes.length > maxBytes) return 'it is too large';
  if (!bytesMatchType(type, bytes)) return `it is not the ${type} it claims to be`;
  return null;
}
