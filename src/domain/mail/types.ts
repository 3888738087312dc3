/**
 * Mail types as the GraphQL enum names them, and the values Contember stores in
 * mail_template.mail_type. The list is open: a later type (2.2's FORCED_SIGN_OUT, ...) is stored
 * as its camelCase name unless it has a historical spelling below.
 */
export type MailType =
  | 'NEW_USER_INVITED' | 'EXISTING_USER_INVITED' | 'RESET_PASSWORD_REQUEST' | 'PASSWORDLESS_SIGN_IN'
  | (string & { readonly __mailType?: never })

/** Contember's stored spellings that are not plain camelCase of the enum name. */
const STORED_EXCEPTIONS: Record<string, string> = { RESET_PASSWORD_REQUEST: 'passwordReset' }

export function storedMailType(type: MailType): string {
  return STORED_EXCEPTIONS[type] ?? type.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

export function mailTypeFromStored(stored: string): MailType {
  for (const [type, value] of Object.entries(STORED_EXCEPTIONS)) if (value === stored) return type
  return stored.replace(/([A-Z])/g, '_$1').toUpperCase()
}
