import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';

/** argon2id with the library's defaults (OWASP-recommended memory and time cost). */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

/** Stored for staff imported from another system until an admin gives them a password: matches nothing. */
export const NO_PASSWORD = '!none';

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  if (hash === NO_PASSWORD) return false;
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** A readable one-time password: 20 characters from an unambiguous alphabet. */
export function generatePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(20);
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join('');
}
