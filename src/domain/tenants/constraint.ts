/**
 * Recognises PostgreSQL constraint violations whichever driver raised them (pg's DatabaseError,
 * PGlite's, or Drizzle's DrizzleQueryError wrapping either as its cause), so that unique indexes
 * and foreign keys can decide races and each surface turns them into 409s instead of 500s.
 */
export interface ConstraintViolation { kind: 'unique' | 'foreign_key', constraint: string }

export function constraintViolation(error: unknown): ConstraintViolation | undefined {
  for (let e = error as Record<string, unknown> | undefined, depth = 0; e && depth < 4; e = e.cause as Record<string, unknown> | undefined, depth++) {
    const code = e.code
    if (code === '23505' || code === '23503') {
      const constraint = String(e.constraint ?? '')
      return { kind: code === '23505' ? 'unique' : 'foreign_key', constraint }
    }
  }
  return undefined
}
