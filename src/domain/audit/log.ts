/**
 * Reading the audit log as 2.2's authLog does: newest first, filters AND-combined (`types`
 * OR-combined inside), offset pagination with `hasMore` from one extra row. Our columns map onto
 * AuthLogEntry one to one; the columns 2.2 lacks (request id, the REST surface's actor and
 * tenant, the project, the person token) are shown inside `metadata` when set.
 */
import { and, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { auditEvent } from '../../db/schema.js'

export const AUTH_LOG_DEFAULT_LIMIT = 100
export const AUTH_LOG_MAX_LIMIT = 500

export interface AuthLogFilter {
  types?: readonly string[] | null
  success?: boolean | null
  invokedByIdentityId?: string | null
  personId?: string | null
  targetPersonId?: string | null
  personInputIdentifier?: string | null
  createdAfter?: Date | null
  createdBefore?: Date | null
}

export interface AuthLogEntry {
  id: string
  createdAt: Date
  type: string
  success: boolean
  invokedByIdentityId: string | null
  personId: string | null
  targetPersonId: string | null
  personInputIdentifier: string | null
  errorCode: string | null
  errorMessage: string | null
  ipAddress: string | null
  userAgent: string | null
  identityProviderId: string | null
  metadata: Record<string, unknown> | null
  eventData: Record<string, unknown> | null
}

function conditions(filter: AuthLogFilter): SQL[] {
  const where: SQL[] = []
  // An empty `types` list names no type, so it matches nothing.
  if (filter.types) where.push(filter.types.length > 0 ? inArray(auditEvent.type, [...filter.types]) : sql`false`)
  if (typeof filter.success === 'boolean') where.push(eq(auditEvent.success, filter.success))
  if (filter.invokedByIdentityId) where.push(eq(auditEvent.invokedById, filter.invokedByIdentityId))
  if (filter.personId) where.push(eq(auditEvent.personId, filter.personId))
  if (filter.targetPersonId) where.push(eq(auditEvent.targetPersonId, filter.targetPersonId))
  if (filter.personInputIdentifier) where.push(eq(auditEvent.personInputIdentifier, filter.personInputIdentifier))
  if (filter.createdAfter) where.push(gte(auditEvent.createdAt, filter.createdAfter))
  if (filter.createdBefore) where.push(lt(auditEvent.createdAt, filter.createdBefore))
  return where
}

/** The columns 2.2 has no field for, kept visible in metadata (only those that are set). */
function extendedMetadata(row: typeof auditEvent.$inferSelect): Record<string, unknown> | null {
  const extra: Record<string, unknown> = {}
  if (row.requestId) extra.requestId = row.requestId
  if (row.actor) extra.restActor = row.actor
  if (row.tenantId) extra.tenantId = row.tenantId
  if (row.projectId) extra.projectId = row.projectId
  if (row.personTokenId) extra.personTokenId = row.personTokenId
  if (!row.metadata && Object.keys(extra).length === 0) return null
  return { ...extra, ...row.metadata }
}

/** One page; `limit` and `offset` are validated by the caller (1..AUTH_LOG_MAX_LIMIT, >= 0). */
export async function readAuthLog(db: DbOrTx, filter: AuthLogFilter, limit: number, offset: number): Promise<{ entries: AuthLogEntry[], hasMore: boolean }> {
  const where = conditions(filter)
  const rows = await db.select().from(auditEvent)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(desc(auditEvent.createdAt), desc(auditEvent.seq))
    .limit(limit + 1)
    .offset(offset)
  const entries = rows.slice(0, limit).map((row): AuthLogEntry => ({
    id: row.id,
    createdAt: row.createdAt,
    type: row.type,
    success: row.success,
    invokedByIdentityId: row.invokedById,
    personId: row.personId,
    targetPersonId: row.targetPersonId,
    personInputIdentifier: row.personInputIdentifier,
    errorCode: row.errorCode,
    errorMessage: row.errorMessage,
    ipAddress: row.ipAddress,
    userAgent: row.userAgent,
    identityProviderId: row.identityProviderId,
    metadata: extendedMetadata(row),
    eventData: row.eventData,
  }))
  return { entries, hasMore: rows.length > limit }
}
