import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { badInput } from './errors';

/**
 * A phone number in E.164 form (+6281234567890), or null when it is not a valid number.
 * Local numbers (081234567890, 0812-3456-7890) are read in the tenant's default country;
 * numbers with a country code (+62..., 62...) in any country.
 */
export function toE164(raw: string, defaultCountry?: string | null): string | null {
  const text = raw.trim();
  if (!text || text.length > 32) return null;
  const country = defaultCountry && isSupportedCountry(defaultCountry) ? (defaultCountry as CountryCode) : undefined;
  // "6281..." without a plus is how many systems store numbers: failing locally, try it as international.
  const candidates = /^[1-9]\d{9,14}$/.test(text) ? [text, `+${text}`] : [text];
  for (const candidate of candidates) {
    const number = parsePhoneNumberFromString(candidate, country);
    if (number?.isValid()) return number.number;
  }
  return null;
}

/** toE164, or BAD_USER_INPUT naming the field. */
export function requireE164(raw: string, defaultCountry: string | null | undefined, field: string): string {
  const number = toE164(raw, defaultCountry);
  if (!number) {
    throw badInput(
      `${field} "${raw.slice(0, 40)}" is not a valid phone number${defaultCountry ? ` (local numbers are read as ${defaultCountry})` : '; add the country code, e.g. +62...'}`,
      field,
    );
  }
  return number;
}

export function isSupportedCountryCode(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && isSupportedCountry(code);
}
