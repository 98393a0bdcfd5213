import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encrypts provider credentials at rest with AES-256-GCM. The key comes from
 * CREDENTIALS_KEY (32 bytes, base64); a stored value is `v1:iv:tag:ciphertext`.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(keyBase64: string) {
    this.key = Buffer.from(keyBase64, 'base64');
    if (this.key.length !== 32) throw new Error('The credentials key must be 32 bytes (base64-encoded)');
  }

  seal(value: Record<string, string>): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
  }

  /** Decrypts a sealed value; throws UnreadableSecretError when this key did not seal it. */
  open(sealed: string): Record<string, string> {
    if (!sealed) return {};
    const [version, iv, tag, ciphertext] = sealed.split(':');
    if (version !== 'v1' || !iv || !tag || !ciphertext) throw new UnreadableSecretError('it is not in a known format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as Record<string, string>;
    } catch {
      throw new UnreadableSecretError('CREDENTIALS_KEY is not the key they were saved with');
    }
  }
}

/** Stored credentials this process cannot decrypt: a wrong or changed CREDENTIALS_KEY, never a network error. */
export class UnreadableSecretError extends Error {
  constructor(reason: string) {
    super(`The stored provider credentials cannot be decrypted: ${reason}`);
    this.name = 'UnreadableSecretError';
  }
}
