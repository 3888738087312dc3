/** E-mail addresses are stored normalized (Contember: whitespace removed, lower-cased). */
export function normalizeEmail(email: string): string {
  return email.replace(/\s+/g, '').toLocaleLowerCase()
}

/** Deliberately permissive, as Contember: something@something, no whitespace, bounded length. */
export function isValidEmail(email: string): boolean {
  return email.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$|^[^\s@]+@[^\s@.]+$/.test(email)
}
