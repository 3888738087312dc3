/** limit/offset arguments of the 2.2 list queries: defaults, a server-side cap, and clear errors for nonsense. */
import { UUID } from '../../domain/identity/queries.js'
import { UserInputError } from '../errors.js'

export interface Page { limit: number, offset: number }

/** A limit above `max` is capped (as 2.2 does); zero or negative values are the caller's mistake. */
export function pageOf(args: { limit?: number | null, offset?: number | null }, defaultLimit: number, max: number): Page {
  const limit = args.limit ?? defaultLimit
  const offset = args.offset ?? 0
  if (limit < 1) throw new UserInputError('Invalid limit: must be at least 1.')
  if (offset < 0) throw new UserInputError('Invalid offset: must not be negative.')
  return { limit: Math.min(limit, max), offset }
}

/** An id filter that must be a UUID (the columns are uuid; a malformed value is named, not a 500). */
export function uuidFilter(value: string | null | undefined, field: string): string | undefined {
  if (value === null || value === undefined) return undefined
  if (!UUID.test(value)) throw new UserInputError(`Invalid ${field}: must be a UUID.`)
  return value
}
