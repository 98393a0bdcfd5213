import { ACCEPTED_TYPES, acceptedType, bytesMatchType, normalType, safeFileName } from '../src/services/files/file-types';

const bytes = (...values: Array<number | string>) =>
  Buffer.concat(values.map((value) => (typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from([value]))));

describe('accepted files', () => {
  it('accepts photos, documents, voice notes and videos customers send, and nothing executable', () => {
    for (const type of ['image/jpeg', 'image/png', 'application/pdf', 'audio/ogg', 'video/mp4', 'text/plain'])
      expect(acceptedType(type)).toBe(true);
    for (const type of [
      'application/x-msdownload',
      'text/html',
      'image/svg+xml',
      'application/javascript',
      'application/octet-stream',
    ])
      expect(acceptedType(type)).toBe(false);
    expect(ACCEPTED_TYPES).toEqual([...ACCEPTED_TYPES].sort());
    expect(normalType(' Image/PNG; charset=binary')).toBe('image/png');
  });

  it('checks the first bytes against the declared type', () => {
    const png = bytes(0x89, 'PNG', 0x0d, 0x0a, 0x1a, 0x0a, 'rest');
    expect(bytesMatchType('image/png', png)).toBe(true);
    expect(bytesMatchType('image/jpeg', png)).toBe(false);
    expect(bytesMatchType('image/jpeg', bytes(0xff, 0xd8, 0xff, 0xe0))).toBe(true);
    expect(bytesMatchType('image/webp', bytes('RIFF', 0, 0, 0, 0, 'WEBPVP8 '))).toBe(true);
    expect(bytesMatchType('image/webp', bytes('RIFF', 0, 0, 0, 0, 'WAVEfmt '))).toBe(false);
    expect(bytesMatchType('application/pdf', bytes('%PDF-1.7'))).toBe(true);
    expect(bytesMatchType('application/pdf', bytes('MZ', 0x90, 0))).toBe(false);
    expect(bytesMatchType('audio/ogg', bytes('OggS', 0))).toBe(true);
    expect(bytesMatchType('video/mp4', bytes(0, 0, 0, 0x18, 'ftypmp42'))).toBe(true);
    expect(bytesMatchType('text/plain', bytes('hello'))).toBe(true);
    expect(bytesMatchType('text/plain', bytes('he', 0, 'llo'))).toBe(false);
    expect(bytesMatchType('image/png', Buffer.alloc(0))).toBe(false);
    expect(bytesMatchType('application/x-msdownload', bytes('MZ'))).toBe(false);
  });

  it('keeps only the base name of a file, without control characters or quotes, and never empty', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('C:\\Users\\sari\\foto "rumah".jpg')).toBe('foto rumah.jpg');
    expect(safeFileName('invoice\r\n.pdf')).toBe('invoice.pdf');
    expect(safeFileName('   ')).toBe('file');
    expect(safeFileName('x'.repeat(300))).toHaveLength(200);
  });
});
